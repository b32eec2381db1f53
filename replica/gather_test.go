package replica

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// pipeConn is a replica's connection on the master's side, as Serve takes
// it over.
type pipeConn struct {
	nc net.Conn
	rd *redcon.Reader
}

func (c pipeConn) ReadCommand() (redcon.Command, error) { return c.rd.ReadCommand() }
func (c pipeConn) NetConn() net.Conn                    { return c.nc }
func (c pipeConn) Close() error                         { return c.nc.Close() }

// TestFeedGathersEntries: a write after a quiet spell reaches the replica
// at once; writes that follow it wait for the gather window, which a
// GETACK (what WAIT sends) cuts short.
func TestFeedGathersEntries(t *testing.T) {
	// A window no test outlasts: what arrives before it ends was not held.
	eng, ids, m := testMaster(t, MasterOptions{Gather: time.Hour})

	set := func(key string) {
		t.Helper()
		s := engine.NewSession()
		if out := string(eng.Exec(s, [][][]byte{{[]byte("SET"), []byte(key), []byte("v")}}, nil)); out != "+OK\r\n" {
			t.Fatalf("SET %s = %q", key, out)
		}
	}
	set("k0") // index 1: the replica continues from 2

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	replicaSide, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer replicaSide.Close()
	masterSide, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := ids.Get()
	m.Serve(pipeConn{nc: masterSide, rd: redcon.NewReader(masterSide)}, id, "2", "127.0.0.1", 0)

	br := bufio.NewReader(replicaSide)
	if l, err := br.ReadString('\n'); err != nil || l != "+CONTINUE "+id+"\r\n" {
		t.Fatalf("PSYNC reply %q, %v; want +CONTINUE %s", l, err, id)
	}
	// got carries "name key" of each command the master sends.
	got := make(chan string, 64)
	go func() { // ends when the test closes replicaSide
		defer close(got)
		rd := redcon.NewReader(br)
		for {
			c, err := rd.ReadCommand()
			if err != nil {
				return
			}
			got <- strings.ToUpper(string(c.Args[0])) + " " + string(c.Args[1])
		}
	}()
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case g, ok := <-got:
				if !ok {
					t.Fatalf("the master closed the link; want %q", w)
				}
				if g != w {
					t.Fatalf("replica got %q, want %q", g, w)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("replica got nothing in 10 s, want %q", w)
			}
		}
	}

	set("k1")
	expect("SET k1") // the first write after a quiet spell is not held

	set("k2")
	set("k3")
	select {
	case g := <-got:
		t.Fatalf("replica got %q inside the gather window; want nothing until it ends", g)
	case <-time.After(200 * time.Millisecond):
	}
	m.RequestAcks()
	expect("SET k2", "SET k3", "REPLCONF GETACK")
}
