package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Redis's words for values it cannot take; callers see them through
// *ParseError and *SetError.
var (
	errWrongArgs = errors.New("wrong number of arguments")
	errNotInt    = errors.New("argument couldn't be parsed into an integer")
	errNotBool   = errors.New("argument must be 'yes' or 'no'")
	errNotMemory = errors.New("argument must be a memory value")
	errSave      = errors.New("Invalid save parameters")
)

// value is how a directive's typed field is parsed, stored, shown and
// written back. Implementations are field[T] values built by the kind
// constructors below; the directive table holds one per row.
type value interface {
	// set parses args (the directive's arguments, already split) and stores
	// the result. first is true for the first occurrence of the directive
	// in one load, and for CONFIG SET: accumulating directives start over
	// then. The caller holds c.mu for writing or owns c alone.
	set(c *Config, d *directive, args []string, first bool) error
	// get renders the value for CONFIG GET.
	get(c *Config, d *directive) string
	// lines renders the value as config-file arguments, one string per
	// line (the directive name not included, arguments already quoted).
	lines(c *Config, d *directive) []string
	// load and store copy the value out and back, for rolling back a
	// CONFIG SET whose hook failed.
	load(c *Config, d *directive) any
	store(c *Config, d *directive, v any)
}

// field is a value of type T. at locates it in a Config; a nil at keeps it
// in Config.extra under the directive's name (directives walrus accepts but
// does not act on).
type field[T any] struct {
	at     func(*Config) *T
	parse  func(old T, args []string, first bool) (T, error)
	format func(T) string
	write  func(T) []string
}

func (f field[T]) ptr(c *Config, d *directive) *T {
	if f.at != nil {
		return f.at(c)
	}
	if p, ok := c.extra[d.name].(*T); ok {
		return p
	}
	p := new(T)
	if c.extra == nil {
		c.extra = make(map[string]any)
	}
	c.extra[d.name] = p
	return p
}

// peek reads without allocating a slot, so that readers under c.mu.RLock
// never write to c.extra.
func (f field[T]) peek(c *Config, d *directive) T {
	if f.at != nil {
		return *f.at(c)
	}
	if p, ok := c.extra[d.name].(*T); ok {
		return *p
	}
	var zero T
	return zero
}

func (f field[T]) set(c *Config, d *directive, args []string, first bool) error {
	v, err := f.parse(f.peek(c, d), args, first)
	if err != nil {
		return err
	}
	*f.ptr(c, d) = v
	return nil
}

func (f field[T]) get(c *Config, d *directive) string     { return f.format(f.peek(c, d)) }
func (f field[T]) lines(c *Config, d *directive) []string { return f.write(f.peek(c, d)) }
func (f field[T]) load(c *Config, d *directive) any       { return f.peek(c, d) }
func (f field[T]) store(c *Config, d *directive, v any)   { *f.ptr(c, d) = v.(T) }

// one returns the single argument of a one-argument directive.
func one(args []string) (string, error) {
	if len(args) != 1 {
		return "", errWrongArgs
	}
	return args[0], nil
}

func line(s string) []string { return []string{s} }

func boolField(at func(*Config) *bool) value {
	return field[bool]{
		at: at,
		parse: func(_ bool, args []string, _ bool) (bool, error) {
			a, err := one(args)
			if err != nil {
				return false, err
			}
			return parseBool(a)
		},
		format: formatBool,
		write:  func(v bool) []string { return line(formatBool(v)) },
	}
}

func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "yes"):
		return true, nil
	case strings.EqualFold(s, "no"):
		return false, nil
	}
	return false, errNotBool
}

func formatBool(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// intField is an integer in [min, max]. clamp, when set, adjusts an
// accepted value (Redis clamps hz into 1..500 this way).
func intField(at func(*Config) *int, min, max int64, clamp ...func(int) int) value {
	return field[int]{
		at: at,
		parse: func(_ int, args []string, _ bool) (int, error) {
			a, err := one(args)
			if err != nil {
				return 0, err
			}
			n, err := parseInt(a, min, max)
			v := int(n)
			for _, f := range clamp {
				v = f(v)
			}
			return v, err
		},
		format: strconv.Itoa,
		write:  func(v int) []string { return line(strconv.Itoa(v)) },
	}
}

// parseInt reads a decimal integer as strictly as Redis's string2ll (no
// sign other than '-', no leading zeros, no blanks) and checks its range.
func parseInt(s string, min, max int64) (int64, error) {
	if s == "" || len(s) > 20 || s[0] == '+' || (len(s) > 1 && s[0] == '0') || strings.HasPrefix(s, "-0") {
		return 0, errNotInt
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errNotInt
	}
	return n, checkRange(n, min, max)
}

func checkRange(n, min, max int64) error {
	if n < min || n > max {
		return fmt.Errorf("argument must be between %d and %d inclusive", min, max)
	}
	return nil
}

// secondsField is a whole number of seconds in [min, max], written and
// shown as Redis does (an integer).
func secondsField(at func(*Config) *time.Duration, min, max int64) value {
	return field[time.Duration]{
		at: at,
		parse: func(_ time.Duration, args []string, _ bool) (time.Duration, error) {
			a, err := one(args)
			if err != nil {
				return 0, err
			}
			n, err := parseInt(a, min, max)
			return time.Duration(n) * time.Second, err
		},
		format: formatSeconds,
		write:  func(v time.Duration) []string { return line(formatSeconds(v)) },
	}
}

func formatSeconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// memoryField is a byte count in [min, max] that accepts Redis's units.
func memoryField(at func(*Config) *int64, min, max int64) value {
	return field[int64]{
		at: at,
		parse: func(_ int64, args []string, _ bool) (int64, error) {
			a, err := one(args)
			if err != nil {
				return 0, err
			}
			n, err := parseMemory(a)
			if err != nil {
				return 0, err
			}
			return n, checkRange(n, min, max)
		},
		format: func(v int64) string { return strconv.FormatInt(v, 10) },
		write:  func(v int64) []string { return line(formatMemory(v)) },
	}
}

// parseMemory reads a size like Redis's memtoull: digits, then optionally
// b, k (1000), kb (1024), m, mb, g or gb, in any case.
func parseMemory(s string) (int64, error) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 20 {
		return 0, errNotMemory
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, errNotMemory
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, errNotMemory
	}
	return int64(n * mul), nil
}

// formatMemory writes a byte count the way CONFIG REWRITE does: with the
// largest binary unit that divides it exactly.
func formatMemory(v int64) string {
	const kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
	switch {
	case v != 0 && v%gb == 0:
		return strconv.FormatInt(v/gb, 10) + "gb"
	case v != 0 && v%mb == 0:
		return strconv.FormatInt(v/mb, 10) + "mb"
	case v != 0 && v%kb == 0:
		return strconv.FormatInt(v/kb, 10) + "kb"
	}
	return strconv.FormatInt(v, 10)
}

// enumField is one of values, matched without regard to case and stored in
// the spelling given here.
func enumField(at func(*Config) *string, values ...string) value {
	msg := errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
	return field[string]{
		at: at,
		parse: func(_ string, args []string, _ bool) (string, error) {
			a, err := one(args)
			if err != nil {
				return "", err
			}
			for _, v := range values {
				if strings.EqualFold(a, v) {
					return v, nil
				}
			}
			return "", msg
		},
		format: func(v string) string { return v },
		write:  func(v string) []string { return line(v) },
	}
}

// stringField is any single argument; CONFIG REWRITE always quotes it, as
// Redis does.
func stringField(at func(*Config) *string) value {
	return field[string]{
		at: at,
		parse: func(_ string, args []string, _ bool) (string, error) {
			return one(args)
		},
		format: func(v string) string { return v },
		write:  func(v string) []string { return line(quote(v)) },
	}
}

// unsupportedField refuses any non-empty argument with err: the directive is
// known, and walrus cannot honour it.
func unsupportedField(err error) value {
	return field[string]{
		parse: func(_ string, args []string, _ bool) (string, error) {
			a, e := one(args)
			if e != nil {
				return "", e
			}
			if a != "" {
				return "", err
			}
			return "", nil
		},
		format: func(v string) string { return v },
		write:  func(v string) []string { return line(quote(v)) },
	}
}

// wordsField is a list of at least min arguments, each accepted by check
// (nil accepts anything); shown space-joined, written on one line.
func wordsField(at func(*Config) *[]string, min, max int, check func(string) error) value {
	return field[[]string]{
		at: at,
		parse: func(_ []string, args []string, _ bool) ([]string, error) {
			if min == 0 && len(args) == 1 && args[0] == "" {
				return []string{}, nil // CONFIG SET name "" clears the list
			}
			if len(args) < min || len(args) > max {
				return nil, errWrongArgs
			}
			for _, a := range args {
				if check == nil {
					continue
				}
				if err := check(a); err != nil {
					return nil, err
				}
			}
			return append([]string(nil), args...), nil
		},
		format: func(v []string) string { return strings.Join(v, " ") },
		write: func(v []string) []string {
			q := make([]string, len(v))
			for i, a := range v {
				q[i] = quoteIfNeeded(a)
			}
			return line(strings.Join(q, " "))
		},
	}
}

// shutdownFlags are SHUTDOWN's options a signal may stand for
// (shutdown-on-sigterm, shutdown-on-sigint), in the order Redis shows
// them; none is "default".
var shutdownFlags = []string{"save", "nosave", "now", "force"}

// shutdownFlagsField holds a set of shutdownFlags, given in any order
// and case, "default" adding none.
func shutdownFlagsField() value {
	format := func(v []string) string {
		if len(v) == 0 {
			return "default"
		}
		return strings.Join(v, " ")
	}
	return field[[]string]{
		parse: func(_ []string, args []string, _ bool) ([]string, error) {
			if len(args) == 0 {
				return nil, errWrongArgs
			}
			set := map[string]bool{}
			for _, a := range args {
				a = strings.ToLower(a)
				if a != "default" && !slices.Contains(shutdownFlags, a) {
					return nil, errors.New("argument(s) must be one of the following: default, " + strings.Join(shutdownFlags, ", "))
				}
				set[a] = true
			}
			if set["save"] && set["nosave"] {
				return nil, errors.New("shutdown options SAVE and NOSAVE can't be used simultaneously")
			}
			var out []string
			for _, f := range shutdownFlags {
				if set[f] {
					out = append(out, f)
				}
			}
			return out, nil
		},
		format: format,
		write:  func(v []string) []string { return line(format(v)) },
	}
}

// saveField holds the snapshot rules. Lines accumulate within one load;
// the first `save` line of a load, or a CONFIG SET, replaces what was
// there; `save ""` clears.
func saveField(at func(*Config) *[]SaveRule) value {
	return field[[]SaveRule]{
		at: at,
		parse: func(old []SaveRule, args []string, first bool) ([]SaveRule, error) {
			if first {
				old = nil
			}
			if len(args) == 1 && args[0] == "" {
				return []SaveRule{}, nil
			}
			if len(args) == 0 || len(args)%2 != 0 {
				return nil, errSave
			}
			out := append([]SaveRule(nil), old...) // never share a published slice
			for i := 0; i < len(args); i += 2 {
				// Seconds beyond a time.Duration's range (292 years)
				// would wrap around to a negative interval.
				secs, err1 := parseInt(args[i], 1, math.MaxInt64/int64(time.Second))
				changes, err2 := parseInt(args[i+1], 0, math.MaxInt64)
				if err1 != nil || err2 != nil {
					return nil, errSave
				}
				out = append(out, SaveRule{Seconds: time.Duration(secs) * time.Second, Changes: changes})
			}
			return out, nil
		},
		format: formatSave,
		write: func(v []SaveRule) []string {
			if len(v) == 0 {
				return line(`""`)
			}
			out := make([]string, len(v))
			for i, r := range v {
				out[i] = fmt.Sprintf("%d %d", int64(r.Seconds/time.Second), r.Changes)
			}
			return out
		},
	}
}

func formatSave(v []SaveRule) string {
	parts := make([]string, 0, 2*len(v))
	for _, r := range v {
		parts = append(parts, formatSeconds(r.Seconds), strconv.FormatInt(r.Changes, 10))
	}
	return strings.Join(parts, " ")
}

// replicaOfValue holds "host port" or "no one" in MasterHost and
// MasterPort.
type replicaOfValue struct{}

type master struct {
	host string
	port int
}

func (replicaOfValue) set(c *Config, _ *directive, args []string, _ bool) error {
	if len(args) != 2 {
		return errWrongArgs
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		c.MasterHost, c.MasterPort = "", 0
		return nil
	}
	p, err := parseInt(args[1], 0, 65535)
	if err != nil || args[0] == "" {
		return errors.New("Invalid master port")
	}
	c.MasterHost, c.MasterPort = args[0], int(p)
	return nil
}

func (replicaOfValue) get(c *Config, _ *directive) string {
	if c.MasterHost == "" {
		return ""
	}
	return c.MasterHost + " " + strconv.Itoa(c.MasterPort)
}

func (replicaOfValue) lines(c *Config, _ *directive) []string {
	if c.MasterHost == "" {
		return line("no one")
	}
	return line(quoteIfNeeded(c.MasterHost) + " " + strconv.Itoa(c.MasterPort))
}

func (replicaOfValue) load(c *Config, _ *directive) any { return master{c.MasterHost, c.MasterPort} }

func (replicaOfValue) store(c *Config, _ *directive, v any) {
	m := v.(master)
	c.MasterHost, c.MasterPort = m.host, m.port
}

// Client classes of client-output-buffer-limit, in Redis's order.
var bufferClasses = []string{"normal", "slave", "pubsub"}

// defaultOutputLimits is client-output-buffer-limit's default.
const defaultOutputLimits = "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60"

// outputLimitsField holds client-output-buffer-limit: each group of four
// arguments (class hard soft soft-seconds) replaces that class's limits and
// leaves the others alone. Like Redis, CONFIG REWRITE writes one line per
// class that differs from its default.
func outputLimitsField(at func(*Config) *OutputBufferLimits) value {
	parse := func(old OutputBufferLimits, args []string, _ bool) (OutputBufferLimits, error) {
		if len(args) == 0 || len(args)%4 != 0 {
			return old, errors.New("Wrong number of arguments in buffer limit configuration.")
		}
		for i := 0; i < len(args); i += 4 {
			lim := old.class(args[i])
			if lim == nil {
				return old, errors.New("Invalid client class specified in buffer limit configuration.")
			}
			hard, err1 := parseMemory(args[i+1])
			soft, err2 := parseMemory(args[i+2])
			secs, err3 := parseInt(args[i+3], 0, math.MaxInt64/int64(time.Second))
			if err1 != nil || err2 != nil || err3 != nil {
				return old, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
			}
			*lim = BufferLimit{Hard: hard, Soft: soft, SoftSeconds: time.Duration(secs) * time.Second}
		}
		return old, nil
	}
	def, err := parse(OutputBufferLimits{}, strings.Fields(defaultOutputLimits), true)
	if err != nil {
		panic("config: " + err.Error())
	}
	return field[OutputBufferLimits]{
		at:    at,
		parse: parse,
		format: func(v OutputBufferLimits) string {
			parts := make([]string, 0, 3)
			for _, name := range bufferClasses {
				l := v.class(name)
				parts = append(parts, fmt.Sprintf("%s %d %d %s", name, l.Hard, l.Soft, formatSeconds(l.SoftSeconds)))
			}
			return strings.Join(parts, " ")
		},
		write: func(v OutputBufferLimits) []string {
			var out []string
			for _, name := range []string{"normal", "replica", "pubsub"} {
				if l := v.class(name); *l != *def.class(name) {
					out = append(out, fmt.Sprintf("%s %s %s %s", name, formatMemory(l.Hard), formatMemory(l.Soft), formatSeconds(l.SoftSeconds)))
				}
			}
			return out
		},
	}
}

// renamesField holds rename-command lines; they accumulate in order.
func renamesField(at func(*Config) *[]CommandRename) value {
	return field[[]CommandRename]{
		at: at,
		parse: func(old []CommandRename, args []string, first bool) ([]CommandRename, error) {
			if len(args) != 2 || args[0] == "" {
				return old, ErrBadDirective
			}
			if first {
				old = nil
			}
			return append(old[:len(old):len(old)], CommandRename{Name: strings.ToLower(args[0]), NewName: args[1]}), nil
		},
		format: func(v []CommandRename) string {
			parts := make([]string, 0, 2*len(v))
			for _, r := range v {
				parts = append(parts, r.Name, r.NewName)
			}
			return strings.Join(parts, " ")
		},
		write: func(v []CommandRename) []string {
			out := make([]string, len(v))
			for i, r := range v {
				out[i] = quoteIfNeeded(r.Name) + " " + quoteIfNeeded(r.NewName)
			}
			return out
		},
	}
}

// usersField holds `user` lines; they accumulate in order, and a name
// declared twice in one load is refused, with Redis's words.
func usersField(at func(*Config) *[]UserDirective) value {
	return field[[]UserDirective]{
		at: at,
		parse: func(old []UserDirective, args []string, first bool) ([]UserDirective, error) {
			if len(args) == 0 {
				return old, ErrBadDirective
			}
			if first {
				old = nil
			}
			for _, u := range old {
				if u.Name == args[0] {
					return old, fmt.Errorf("Error in user declaration '%s': Duplicate user found. A user can only be defined once in config files", args[0])
				}
			}
			u := UserDirective{Name: args[0], Rules: append([]string(nil), args[1:]...)}
			return append(old[:len(old):len(old)], u), nil
		},
		format: func(v []UserDirective) string { return strings.Join(userLines(v), "\n") },
		write:  userLines,
	}
}

// userLines renders users as `user` directive arguments (the name and the
// rules, quoted where needed), one line each.
func userLines(users []UserDirective) []string {
	out := make([]string, len(users))
	for i, u := range users {
		parts := make([]string, 0, 1+len(u.Rules))
		parts = append(parts, quoteIfNeeded(u.Name))
		for _, r := range u.Rules {
			parts = append(parts, quoteIfNeeded(r))
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

// keyspaceEventsField is notify-keyspace-events: Redis's class letters,
// checked and kept in Redis's canonical order (CONFIG GET of "KEA" is
// "AKE", as in Redis).
func keyspaceEventsField(at func(*Config) *string) value {
	return field[string]{
		at: at,
		parse: func(_ string, args []string, _ bool) (string, error) {
			a, err := one(args)
			if err != nil {
				return "", err
			}
			return CanonicalKeyspaceEvents(a)
		},
		format: func(v string) string { return v },
		write:  func(v string) []string { return line(quote(v)) },
	}
}

// keyspaceClasses are the class letters of notify-keyspace-events in the
// order Redis writes them; A stands for the first ten.
const keyspaceClasses = "g$lshzxetdn"

// CanonicalKeyspaceEvents checks notify-keyspace-events letters and
// writes them as Redis does: A when every class A covers is there, else
// each class, then K, E and m.
func CanonicalKeyspaceEvents(s string) (string, error) {
	has := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == 'A':
			for j := 0; j < 10; j++ {
				has[keyspaceClasses[j]] = true
			}
		case strings.IndexByte(keyspaceClasses+"KEm", ch) >= 0:
			has[ch] = true
		default:
			return "", errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
		}
	}
	var b strings.Builder
	all := true
	for j := 0; j < 10; j++ {
		all = all && has[keyspaceClasses[j]]
	}
	if all {
		b.WriteByte('A')
	}
	for j := 0; j < len(keyspaceClasses); j++ {
		if has[keyspaceClasses[j]] && (!all || j >= 10) {
			b.WriteByte(keyspaceClasses[j])
		}
	}
	for _, ch := range []byte("KEm") {
		if has[ch] {
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}
