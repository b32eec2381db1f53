package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReadReplyParsesEveryType(t *testing.T) {
	tests := []struct {
		in   string
		want Reply
	}{
		{"+OK\r\n", Reply{Kind: '+', Str: "OK"}},
		{"-ERR wrong\r\n", Reply{Kind: '-', Str: "ERR wrong"}},
		{":-42\r\n", Reply{Kind: ':', Int: -42}},
		{"$5\r\nhe\r\no\r\n", Reply{Kind: '$', Str: "he\r\no"}},
		{"$0\r\n\r\n", Reply{Kind: '$', Str: ""}},
		{"$-1\r\n", Reply{Kind: '$', Null: true}},
		{"*-1\r\n", Reply{Kind: '*', Null: true}},
	}
	for _, tt := range tests {
		got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)), 0)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got.Kind != tt.want.Kind || got.Str != tt.want.Str || got.Int != tt.want.Int || got.Null != tt.want.Null {
			t.Errorf("%q = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	arr, err := readReply(bufio.NewReader(strings.NewReader("*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+y\r\n")), 0)
	if err != nil || len(arr.Array) != 3 || arr.Array[1].Str != "x" || arr.Array[2].Array[0].Str != "y" {
		t.Errorf("nested array = %+v, %v", arr, err)
	}
	if err := (Reply{Kind: '-', Str: "LOADING x"}).Err(); err == nil || err.Error() != "LOADING x" {
		t.Errorf("error reply Err() = %v", err)
	}
}

func TestReadReplyRejectsMalformedInput(t *testing.T) {
	for _, in := range []string{
		"?\r\n", "+OK\n", ":12a\r\n", "$3\r\nabcd\r\n", "$-2\r\n", "*-5\r\n",
		"$99999999999\r\n", "\r\n", strings.Repeat("*1\r\n", 20) + ":1\r\n",
	} {
		_, err := readReply(bufio.NewReader(strings.NewReader(in)), 0)
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: error %v, want ErrProtocol", in, err)
		}
	}
	if _, err := readReply(bufio.NewReader(strings.NewReader("$5\r\nab")), 0); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated bulk: %v", err)
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n:1\r\n$1\r\na\r\n", "*1\r\n*1\r\n*-1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for range 64 { // bounded: each reply consumes at least 3 bytes
			if _, err := readReply(r, 0); err != nil {
				return
			}
		}
	})
}

func TestConnPipelinesCommandsAsRESP(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := newConn(client, 5*time.Second)
	defer c.Close()
	got := make(chan string, 1)
	go func() {
		want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n"
		buf := make([]byte, len(want))
		io.ReadFull(server, buf)
		got <- string(buf)
		server.Write([]byte("+OK\r\n+PONG\r\n"))
	}()
	c.Write([]byte("SET"), []byte("k"), []byte(""))
	c.WriteStrings("PING")
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n" {
		t.Errorf("wire = %q", s)
	}
	for _, want := range []string{"OK", "PONG"} {
		r, err := c.Read()
		if err != nil || r.Str != want {
			t.Errorf("reply = %+v, %v; want %s", r, err, want)
		}
	}
}
