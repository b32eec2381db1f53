package bench

import (
	"io"
	"net"
	"os"
	"runtime"
	"testing"
)

func TestTCPReceivedCountsTheBytesOfOneProcessFromOnePort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sock_diag is Linux's")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	const size = 300_000
	served, done := make(chan error, 1), make(chan struct{})
	release := make(chan struct{}) // the link stays established until measured
	defer func() { close(release); <-done }()
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		_, err = c.Write(make([]byte, size))
		served <- err
		<-release
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	got, err := tcpReceived(os.Getpid(), port)
	if err != nil {
		t.Skipf("no sock_diag here (%v); fullsync counts through its proxy", err)
	}
	if got != size {
		t.Errorf("received from port %d: %d bytes, want %d", port, got, size)
	}
	if other, err := tcpReceived(os.Getpid(), port+1); err != nil || other != 0 {
		t.Errorf("received from another port: %d, %v; want 0", other, err)
	}
}
