package engine

import (
	"sort"
	"strings"
)

// Flags describe a command to the dispatcher, which applies every check
// (auth, arity, read-only replica, loading, min-replicas) from them.
type Flags uint32

const (
	Write     Flags = 1 << iota // changes the dataset: goes to the committer
	ReadOnly                    // reads the dataset
	Admin                       // administrative
	Fast                        // O(1) or O(log N)
	Loading                     // allowed while the dataset is loading
	Stale                       // allowed on a replica whose link is down
	PubSub                      // publish/subscribe
	NoAuth                      // allowed before AUTH
	ConnState                   // changes only the connection's state
	NoMulti                     // refused inside MULTI
	DenyOOM                     // may grow memory
	Blocking                    // may block the client
)

// flagNames is the COMMAND reply's text for each flag, in Redis 7.0's
// order and spelling.
var flagNames = []struct {
	f    Flags
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {Blocking, "blocking"}, {Loading, "loading"}, {Stale, "stale"},
	{Fast, "fast"}, {NoAuth, "no_auth"}, {NoMulti, "no_multi"},
}

// Names returns the flags as COMMAND INFO spells them.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Spec is one row of the command table: what the dispatcher needs to know.
// Arity follows Redis: positive = exact argument count (name included),
// negative = at least -Arity.
type Spec struct {
	Name     string
	Arity    int
	Flags    Flags
	FirstKey int // position of the first key, 0 for none
	LastKey  int // position of the last key, negative counts from the end
	Step     int
	// NumKeysAt is the position of a numkeys argument (LMPOP, ZMPOP),
	// for commands whose keys are the numkeys arguments after it, and
	// those from FirstKey to LastKey before it, if any (ZUNIONSTORE's
	// destination); COMMAND calls them movablekeys, as Redis does.
	NumKeysAt int
	// KeysAfter is a keyword (XREAD's and XREADGROUP's STREAMS) whose
	// following arguments are keys then as many IDs; COMMAND calls them
	// movablekeys too.
	KeysAfter string
	// KeysOf, when set, finds the keys itself, for a command whose
	// options name a key (GEORADIUS's STORE); COMMAND calls them
	// movablekeys too.
	KeysOf  func(args [][]byte) [][]byte
	Group   string // COMMAND DOCS group: string, generic, hash, ...
	Summary string

	id int // an engine command's place in the table (Command.ID)
}

// ArityOK reports whether n arguments (name included) fit the arity.
func (s *Spec) ArityOK(n int) bool {
	if s.Arity >= 0 {
		return n == s.Arity
	}
	return n >= -s.Arity
}

// Keys returns the key arguments of args as the spec positions them.
func (s *Spec) Keys(args [][]byte) [][]byte {
	if s.KeysOf != nil {
		return s.KeysOf(args)
	}
	if s.KeysAfter != "" {
		for i := 1; i < len(args); i++ {
			if strings.EqualFold(string(args[i]), "group") {
				// XREADGROUP's group and consumer names may be any
				// word, STREAMS included: they are not the keyword.
				i += 2
				continue
			}
			if strings.EqualFold(string(args[i]), s.KeysAfter) {
				// The first half of the rest; of an odd count, the
				// smaller half, as Redis's key spec finds them.
				n := len(args) - i - 1
				return args[i+1 : i+1+n/2]
			}
		}
		return nil
	}
	if s.NumKeysAt > 0 {
		if s.NumKeysAt >= len(args) {
			return nil
		}
		var keys [][]byte
		if s.FirstKey > 0 {
			keys = append(keys, args[s.FirstKey:s.LastKey+1]...)
		}
		n, err := parseInt(args[s.NumKeysAt])
		first := s.NumKeysAt + 1
		if err != nil || n <= 0 {
			return keys
		}
		return append(keys, args[first:first+int(min(n, int64(len(args)-first)))]...)
	}
	if s.FirstKey <= 0 || s.FirstKey >= len(args) {
		return nil
	}
	last := s.LastKey
	if last < 0 {
		last = len(args) + last
	}
	if last >= len(args) {
		last = len(args) - 1
	}
	step := s.Step
	if step <= 0 {
		step = 1
	}
	var keys [][]byte
	for i := s.FirstKey; i <= last; i += step {
		keys = append(keys, args[i])
	}
	return keys
}

// Command is a data command the engine executes.
type Command struct {
	Spec
	run func(c *ctx, args [][]byte)
}

// ID numbers the engine's commands from 0 to NumCommands()-1, so a caller
// can keep something per command in a slice.
func (c *Command) ID() int { return c.Spec.id }

// NumCommands is how many commands the engine has.
func NumCommands() int { return len(commands) }

var commands = map[string]*Command{}

// register adds rows to the table; each types' file registers its own.
func register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := commands[c.Name]; dup {
			panic("engine: command registered twice: " + c.Name)
		}
		c.Spec.id = len(commands)
		commands[c.Name] = c
	}
}

// Lookup finds a command by name, case-insensitively, without allocating
// for names of up to 32 bytes.
func Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return commands[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return commands[string(buf[:len(name)])]
}

// Commands returns every engine command, sorted by name.
func Commands() []*Command {
	out := make([]*Command, 0, len(commands))
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
