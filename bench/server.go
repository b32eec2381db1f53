package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrExited reports a server process that exited while the harness still
// needed it.
var ErrExited = errors.New("server process exited")

// Roles a process plays in a scenario; Server.Tuning is keyed by
// "scenario/role".
const (
	RoleNode    = "node"
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Server is a server binary the harness can start: walrus-server and
// redis-server take the same command line shape, so both are just a Server.
type Server struct {
	// Name labels the server in reports ("walrus", "redis").
	Name string `json:"name"`
	// Binary is the path of the executable.
	Binary string `json:"binary"`
	// Args are passed to every instance after the harness's own arguments
	// (port, dir, persistence, pidfile, logfile), so they override them.
	Args []string `json:"args,omitempty"`
	// Tuning holds extra arguments that give this server its fastest
	// configuration for one figure, keyed by "scenario/role" (for example
	// "fullsync/master"). They are printed with the results.
	Tuning map[string][]string `json:"tuning,omitempty"`
}

// Walrus returns the walrus-server Server for the binary at path; an empty
// path looks up "walrus-server" on PATH.
func Walrus(path string) (Server, error) {
	bin, err := findBinary(path, "walrus-server")
	return Server{Name: "walrus", Binary: bin}, err
}

// Redis returns the redis-server Server for the binary at path; an empty
// path looks up "redis-server" on PATH. Its Tuning turns on redis-server's
// fastest settings for each figure: diskless full sync with no delay, and a
// diskless load on the (empty) replica.
func Redis(path string) (Server, error) {
	bin, err := findBinary(path, "redis-server")
	return Server{
		Name:   "redis",
		Binary: bin,
		Tuning: map[string][]string{
			"fullsync/master":   {"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"},
			"fullsync/replica":  {"--repl-diskless-load", "on-empty-db"},
			"lag/master":        {"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"},
			"lag/replica":       {"--repl-diskless-load", "on-empty-db"},
			"readscale/master":  {"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"},
			"readscale/replica": {"--repl-diskless-load", "on-empty-db"},
		},
	}, err
}

func findBinary(path, name string) (string, error) {
	if path == "" {
		path = name
	}
	bin, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", name, err)
	}
	return filepath.Abs(bin)
}

// tuning returns the extra arguments for a scenario and role.
func (s Server) tuning(scenario, role string) []string {
	return s.Tuning[scenario+"/"+role]
}

// Process is a running server instance. Stop or Kill ends it; the goroutine
// that waits for the process is owned by the Process and ends with it.
type Process struct {
	Server Server
	Dir    string
	Port   int
	Addr   string // 127.0.0.1:Port
	Args   []string

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

// Start runs an instance of s on 127.0.0.1:port with its data in dir
// (created if missing), persistence as the benchmarks use it (no RDB
// snapshots, an append-only file fsynced every second), and extra appended
// last. It returns once the process has started, not once it serves: see
// WaitReady.
func (s Server) Start(dir string, port int, extra ...string) (*Process, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Name, err)
	}
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "everysec",
		"--pidfile", filepath.Join(dir, "server.pid"),
		"--logfile", filepath.Join(dir, "server.log"),
	}
	args = append(args, s.Args...)
	args = append(args, extra...)
	cmd := exec.Command(s.Binary, args...)
	cmd.Dir = dir
	// Should the harness die, the kernel kills the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", s.Name, s.Binary, err)
	}
	p := &Process{
		Server: s, Dir: dir, Port: port,
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Args:   args,
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	go func() {
		err := cmd.Wait()
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w: %s", err, lastLines(stderr.String(), 5))
		}
		p.waitErr = err
		close(p.exited)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM (a clean stop) and waits up to timeout for the process
// to exit, then kills it. It is a no-op on an exited process.
func (p *Process) Stop(timeout time.Duration) error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.Exited() {
		return fmt.Errorf("stop %s pid %d: %w", p.Server.Name, p.Pid(), err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("stop %s pid %d: still running after %v, killed", p.Server.Name, p.Pid(), timeout)
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() error {
	if p.Exited() {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !p.Exited() {
		return fmt.Errorf("kill %s pid %d: %w", p.Server.Name, p.Pid(), err)
	}
	<-p.exited
	return nil
}

// LogTail returns the last n lines of the server's log file, for error
// messages.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(p.Dir, "server.log"))
	if err != nil {
		return ""
	}
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pollInterval is how often the harness polls a server for a condition.
const pollInterval = 5 * time.Millisecond

// WaitReady polls PING until the server answers PONG (a server still loading
// its data answers LOADING and is polled again), the process exits, or
// timeout passes. It returns how long it waited.
func (p *Process) WaitReady(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p.Exited() {
			return 0, fmt.Errorf("%s on %s: %w (%v); log:\n%s", p.Server.Name, p.Addr, ErrExited, p.waitErr, p.LogTail(10))
		}
		if last = ping(p.Addr); last == nil {
			return time.Since(start), nil
		}
		time.Sleep(pollInterval)
	}
	return 0, fmt.Errorf("%s on %s not ready after %v: %v; log:\n%s", p.Server.Name, p.Addr, timeout, last, p.LogTail(10))
}

func ping(addr string) error {
	c, err := Dial(addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Do("PING")
	if err != nil {
		return err
	}
	if r.Str != "PONG" {
		return fmt.Errorf("PING answered %q", r.Str)
	}
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
