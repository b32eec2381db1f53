package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors of CONFIG SET that callers branch on; a *SetError wraps them.
var (
	// ErrUnknownDirective: no such directive, or not one CONFIG SET knows.
	ErrUnknownDirective = errors.New("unknown option")
	// ErrImmutable: the directive can only be set at start-up.
	ErrImmutable = errors.New("can't set immutable config")
)

// SetError is a refused CONFIG SET. Its text is the reply Redis 7 gives,
// ready to send to the client:
//
//	ERR Unknown option or number of arguments for CONFIG SET - 'foo'
//	ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config
type SetError struct {
	Name string // the directive as the client named it
	Err  error  // ErrUnknownDirective, ErrImmutable, a parse error or a hook's error
}

func (e *SetError) Error() string {
	if errors.Is(e.Err, ErrUnknownDirective) {
		return fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", e.Name)
	}
	return fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %v", e.Name, e.Err)
}

func (e *SetError) Unwrap() error { return e.Err }

// Get answers CONFIG GET: the name and value of every directive whose name
// or alias matches pattern (a Redis glob, case-insensitive), sorted by
// name. A pattern without * ? or [ is looked up directly and answered with
// the name as given, as Redis does. Values are in Redis's form: yes/no,
// sizes in plain bytes, durations in seconds, lists space-joined.
func (c *Config) Get(pattern string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !strings.ContainsAny(pattern, "*?[") {
		d := lookup(pattern)
		if d == nil || d.flags&fileOnly != 0 {
			return nil
		}
		return [][2]string{{pattern, d.v.get(c, d)}}
	}
	var out [][2]string
	for _, d := range directives {
		if d.flags&(fileOnly|hidden) != 0 {
			continue
		}
		val, have := "", false
		for _, n := range append([]string{d.name}, d.aliases...) {
			if !globMatch(pattern, n) {
				continue
			}
			if !have {
				val, have = d.v.get(c, d), true
			}
			out = append(out, [2]string{n, val})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Set answers CONFIG SET for one directive. value is one argument; for
// directives taking several (save, bind, client-output-buffer-limit) it is
// split like a config line. On success the directive's OnChange hooks run
// in registration order; if one fails the old value is restored, the hooks
// that already ran are called again with it, and Set reports the failure.
// Errors are *SetError values.
func (c *Config) Set(name, value string) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	d := lookup(name)
	if d == nil || d.flags&fileOnly != 0 {
		return &SetError{Name: name, Err: ErrUnknownDirective}
	}
	if d.flags&mutable == 0 {
		return &SetError{Name: name, Err: ErrImmutable}
	}
	args := []string{value}
	if d.flags&multi != 0 && value != "" {
		var err error
		if args, err = SplitArgs(value); err != nil {
			return &SetError{Name: name, Err: err}
		}
	}
	c.mu.Lock()
	old := d.v.load(c, d)
	err := d.v.set(c, d, args, true)
	c.mu.Unlock()
	if err != nil {
		return &SetError{Name: name, Err: err}
	}
	hooks := c.hooks[d.name]
	for i, fn := range hooks {
		if err := fn(c); err != nil {
			c.mu.Lock()
			d.v.store(c, d, old)
			c.mu.Unlock()
			for _, undo := range hooks[:i] {
				_ = undo(c) // best effort: put the server back on the old value
			}
			return &SetError{Name: name, Err: err}
		}
	}
	return nil
}

// OnChange registers fn to run after CONFIG SET changes the directive name
// (or alias); fn reads the new value from c (under RLock, or through
// Persistent/ReplicaOf). A non-nil error vetoes the change. fn runs with
// Set's serialising lock held: it must not call Set, SetReplicaOf or
// Rewrite. Registering a hook for an unknown directive is a programming
// error and panics.
func (c *Config) OnChange(name string, fn func(c *Config) error) {
	d := lookup(name)
	if d == nil {
		panic("config: OnChange for unknown directive " + name)
	}
	c.setMu.Lock()
	defer c.setMu.Unlock()
	if c.hooks == nil {
		c.hooks = make(map[string][]func(*Config) error)
	}
	c.hooks[d.name] = append(c.hooks[d.name], fn)
}

// SetReplicaOf records the master this server now follows (host "" for
// none), for the REPLICAOF command: CONFIG GET and REWRITE then show it.
// It runs no hooks; the caller is the one acting on the change.
func (c *Config) SetReplicaOf(host string, port int) {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if host == "" {
		port = 0
	}
	c.MasterHost, c.MasterPort = host, port
}
