// Command walrus-cli sends one command to a walrus (or Redis) server and
// prints the reply, for scripts on machines without redis-cli.
//
//	walrus-cli [-h host] [-p port] [-a password] command [arg ...]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	host := flag.String("h", "127.0.0.1", "server host")
	port := flag.Int("p", 6379, "server port")
	pass := flag.String("a", "", "password (AUTH)")
	timeout := flag.Duration("t", 5*time.Second, "connect and reply timeout")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: walrus-cli [-h host] [-p port] [-a password] command [arg ...]")
		os.Exit(2)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)), *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Could not connect to %s:%d: %v\n", *host, *port, err)
		os.Exit(1)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(*timeout))
	rd := bufio.NewReader(c)
	if *pass != "" {
		send(c, []string{"AUTH", *pass})
		if _, err := reply(rd, ""); err != nil {
			fail(err)
		}
	}
	send(c, flag.Args())
	out, err := reply(rd, "")
	if err != nil {
		fail(err)
	}
	fmt.Println(out)
	if strings.HasPrefix(out, "(error)") {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func send(w io.Writer, args []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	io.WriteString(w, b.String())
}

// reply renders one RESP reply the way redis-cli does with raw output.
func reply(rd *bufio.Reader, indent string) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "(error) " + line[1:], nil
	case ':':
		return line[1:], nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		var parts []string
		for i := 0; i < n; i++ {
			p, err := reply(rd, indent+"  ")
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("bad reply %q", line)
}
