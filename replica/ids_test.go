package replica

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIDsPersistAcrossRestartsAndForgetBeforeInstall(t *testing.T) {
	dir := t.TempDir()
	ids, err := LoadIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := ids.Get()
	if len(first) != 40 {
		t.Fatalf("new id %q", first)
	}
	next := NewID()
	if err := ids.Switch(next, 42); err != nil {
		t.Fatal(err)
	}
	again, err := LoadIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, id2, second := again.Get()
	if id != next || id2 != first || second != 42 {
		t.Fatalf("reloaded %s %s %d, want %s %s 42", id, id2, second, next, first)
	}
	if err := again.Forget(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "replication.json")); !os.IsNotExist(err) {
		t.Fatalf("Forget left the file: %v", err)
	}
	master := NewID()
	if err := again.Adopt(master); err != nil {
		t.Fatal(err)
	}
	third, _ := LoadIDs(dir)
	if id, id2, second := third.Get(); id != master || id2 != noID || second != 0 {
		t.Fatalf("after Adopt: %s %s %d", id, id2, second)
	}
}

func TestIDsRefuseAGarbledFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "replication.json"), []byte("{nope"), 0o644)
	if _, err := LoadIDs(dir); err == nil {
		t.Fatal("a garbled replication state file was accepted")
	}
}

func TestUncleanMasterRestartStartsANewHistory(t *testing.T) {
	dir := t.TempDir()
	ids, _ := LoadIDs(dir)
	first, _, _ := ids.Get()
	if switched, _ := ids.StartMaster(10); switched {
		t.Fatal("a first start switched history")
	}
	// Crash: no Stopped. The next start keeps the old ID valid up to 21.
	again, _ := LoadIDs(dir)
	switched, err := again.StartMaster(20)
	if err != nil || !switched {
		t.Fatalf("unclean restart: switched=%v err=%v", switched, err)
	}
	id, id2, second := again.Get()
	if id == first || id2 != first || second != 21 {
		t.Fatalf("after unclean restart: %s %s %d", id, id2, second)
	}
	if n, ok := canContinue(first, "21", id, id2, second, 1, 20); !ok || n != 21 {
		t.Fatal("a replica at the master's durable end cannot continue")
	}
	if _, ok := canContinue(first, "25", id, id2, second, 1, 30); ok {
		t.Fatal("a replica ahead of the durable end continued")
	}
	again.Stopped()
	third, _ := LoadIDs(dir)
	if switched, _ := third.StartMaster(20); switched {
		t.Fatal("a clean restart switched history")
	}
	if got, _, _ := third.Get(); got != id {
		t.Fatal("a clean restart changed the replication ID")
	}
}
