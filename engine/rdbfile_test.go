package engine

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// TestWriteRDBChecksumsTheWholeFile: the CRC-64 that ends an RDB file is
// Redis's over every byte before it (a sum of 0 would tell Redis not to
// check), for a file longer than the writer's buffer, and ReadRDB reads
// back every key.
func TestWriteRDBChecksumsTheWholeFile(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	value := strings.Repeat("v", 1000)
	for i := 0; i < 300; i++ { // 300 KB: several of the writer's 64 KiB blocks
		do(t, e, s, "SET k"+strconv.Itoa(i)+" "+value)
	}
	var file bytes.Buffer
	if err := e.WriteRDB(&file, [][2]string{{"redis-ver", "7.0.15"}}, RDBOptions{}); err != nil {
		t.Fatal(err)
	}
	b := file.Bytes()
	if len(b) < 300_000 {
		t.Fatalf("RDB of %d bytes for 300 values of 1000", len(b))
	}
	sum := binary.LittleEndian.Uint64(b[len(b)-8:])
	if want := redisCRC64(0, b[:len(b)-8]); sum != want || sum == 0 {
		t.Fatalf("the file ends in CRC %#x, want %#x", sum, want)
	}
	keys := 0
	if err := ReadRDB(b, func(RDBItem) error { keys++; return nil }); err != nil || keys != 300 {
		t.Fatalf("ReadRDB: %d keys, %v; want 300", keys, err)
	}
}
