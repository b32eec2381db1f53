package server

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// fuzzDisabled are commands FuzzDispatch renames away: valid Redis that
// would stop the server, wait on purpose (blocking pops, WAIT with no
// replicas, a script's "while 1 do end"), change who may connect, or
// touch the disk at length. What is left is the whole data model and the
// connection commands.
var fuzzDisabled = []string{
	"shutdown", "debug", "config", "client", "save", "bgsave", "acl",
	"replicaof", "slaveof", "psync", "sync", "replconf", "wait", "waitaof", "failover", "monitor",
	"blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xread", "xreadgroup",
	"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "migrate",
}

// fuzzMaxDigits bounds the numbers an input may hold: "SETRANGE k
// 500000000 x" is valid Redis that just allocates 500 MB, which measures
// the machine, not the parser.
const fuzzMaxDigits = 6

// FuzzDispatch feeds raw bytes (RESP, inline commands, garbage) to a live
// server over TCP, through the protocol guard, redcon's parser and the
// dispatcher. The server must answer and close every connection in time,
// never panic, and keep serving other clients.
func FuzzDispatch(f *testing.F) {
	known := map[string]bool{}
	for _, c := range engine.Commands() {
		known[c.Name] = true
	}
	for _, c := range serverCommands() {
		known[c.Name] = true
	}
	var args []string
	for _, name := range fuzzDisabled {
		if known[name] {
			args = append(args, "--rename-command", name, "")
		}
	}
	s := startServer(f, append(args, "--proto-max-bulk-len", "1mb", "--client-query-buffer-limit", "1mb")...)
	addr := s.Addr().String()
	control := dialRaw(f, addr)

	for _, seed := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"SET a 1\r\nINCR a\r\nGET a\r\n",
		"MULTI\r\nSET t 1\r\nINCRBY t 5\r\nEXEC\r\n",
		"HSET h f v g w\r\nHGETALL h\r\nLPUSH l a b c\r\nLRANGE l 0 -1\r\n",
		"SADD s a b\r\nZADD z 1 a 2 b\r\nZRANGE z 0 -1 WITHSCORES\r\nSELECT 3\r\nSWAPDB 0 3\r\n",
		"XADD x MAXLEN ~ 5 * f v\r\nXGROUP CREATE x g 0\r\nXREADGROUP GROUP g c COUNT 2 STREAMS x >\r\nXAUTOCLAIM x g d 0 0\r\nXRANGE x (0-1 + COUNT 1\r\n",
		"SET \"unbalanced\r\n",
		"*2\r\n$3\r\nGET\r\n$-1\r\n",
		"*-1\r\n*0\r\n\r\n\n",
		"*1\r\n$100\r\nshort\r\n",
		"EXPIRE k 10\r\nTTL k\r\nPERSIST k\r\nDEL k a t\r\n",
		// RESP3: maps, sets, doubles, a subscriber running commands.
		"HELLO 3\r\nHSET h f v\r\nHGETALL h\r\nZADD z 1.5 a\r\nZRANGE z 0 -1 WITHSCORES\r\nSMEMBERS s\r\nXINFO STREAM x\r\n",
		"HELLO 3\r\nSUBSCRIBE c\r\nGET a1\r\nPUBLISH c m\r\nPING\r\nUNSUBSCRIBE\r\nHELLO 2\r\nPING\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if hasLongNumber(data, fuzzMaxDigits) {
			t.Skip()
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(data) // the server may close first: that is an answer too
		c.(*net.TCPConn).CloseWrite()
		_, err = io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server neither answered nor closed within 10s for input %q", data)
		}
		control.t = t // report through this input's test, not f
		control.c.SetDeadline(time.Now().Add(10 * time.Second))
		if got := control.do("PING"); got != "+PONG" {
			t.Fatalf("the server stopped serving others after input %q: PING %q", data, got)
		}
	})
}

// hasLongNumber reports a run of more than n decimal digits.
func hasLongNumber(b []byte, n int) bool {
	run := 0
	for _, ch := range b {
		if ch >= '0' && ch <= '9' {
			if run++; run > n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
