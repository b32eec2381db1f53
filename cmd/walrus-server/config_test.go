package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestLoglevelFollowsConfigSet: a server started at loglevel warning
// logs no notice; after CONFIG SET loglevel notice it does.
func TestLoglevelFollowsConfigSet(t *testing.T) {
	n := startNode(t, "", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	nowhere := strconv.Itoa(freePort(t))
	logged := func() bool {
		b, err := os.ReadFile(n.log)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(b), "connecting to master")
	}
	n.must("REPLICAOF", "127.0.0.1", nowhere)
	n.must("REPLICAOF", "NO", "ONE")
	if logged() {
		t.Fatal("a notice logged at loglevel warning")
	}
	n.must("CONFIG", "SET", "loglevel", "notice")
	n.must("REPLICAOF", "127.0.0.1", nowhere)
	n.must("REPLICAOF", "NO", "ONE")
	if !logged() {
		t.Fatal("REPLICAOF's notice not logged after CONFIG SET loglevel notice")
	}
}
