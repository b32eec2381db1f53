package engine

import (
	"errors"
	"strings"

	"github.com/cockroachdb/pebble"
)

// Function libraries (Redis 7.0's FUNCTION LOAD): the engine keeps each
// library's code in a system row, \x00fn<name>, so libraries are in the
// log, in checkpoints and in recovery like the data, and FLUSHALL leaves
// them, as in Redis. The server compiles them and runs FCALL; the engine
// only stores them. A client never reaches this command: the server's
// FUNCTION row takes its name, and it writes the log entries this
// command applies:
//
//	FUNCTION LOAD REPLACE <code>   store the library the code's first line names
//	FUNCTION DELETE <name>         drop a library (:1, or :0 if absent)
//	FUNCTION FLUSH                 drop every library
//	FUNCTION LIBRARIES             reply name, code, name, code, ... (no entry)
func init() {
	register(&Command{Spec{Name: "function", Arity: -2, Flags: Write, Group: "scripting", Summary: "A container for function commands"}, cmdFunction})
}

var keyFunctionPrefix = []byte("\x00fn")

func functionKey(name string) []byte {
	return append(append([]byte(nil), keyFunctionPrefix...), name...)
}

// FunctionsVersion is the version of the function libraries: it changes
// whenever a committed group changed a library, or a checkpoint was
// installed; the server reloads its libraries then.
func (e *Engine) FunctionsVersion() uint64 { return e.fnVersion.Load() }

// LibraryName is the name a library's first line gives it
// ("#!lua name=<name>"), or "" when that line is not there.
func LibraryName(code string) string {
	first, _, _ := strings.Cut(code, "\n")
	rest, ok := strings.CutPrefix(first, "#!lua")
	if !ok {
		return ""
	}
	for _, f := range strings.Fields(rest) {
		if name, ok := strings.CutPrefix(f, "name="); ok {
			return name
		}
	}
	return ""
}

func cmdFunction(c *ctx, args [][]byte) {
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "load" && len(args) == 4:
		name := LibraryName(string(args[3]))
		if name == "" {
			c.replyError("ERR Missing library metadata")
			return
		}
		c.set(functionKey(name), args[3])
		c.g.functions = true
		c.emit(args...)
		c.replyBulkString(name)
	case sub == "delete" && len(args) == 3:
		k := functionKey(string(args[2]))
		_, closer, err := c.r.Get(k)
		if errors.Is(err, pebble.ErrNotFound) {
			c.replyInt(0)
			return
		} else if err != nil {
			panic(storageError{err})
		}
		closer.Close()
		c.del(k)
		c.g.functions = true
		c.emit(args...)
		c.replyInt(1)
	case sub == "flush" && len(args) == 2:
		if err := c.b.DeleteRange(keyFunctionPrefix, prefixEnd(keyFunctionPrefix), nil); err != nil {
			panic(storageError{err})
		}
		c.g.functions = true
		c.emit(args...)
		c.replyOK()
	case sub == "libraries" && len(args) == 2:
		it := c.iter(keyFunctionPrefix, prefixEnd(keyFunctionPrefix))
		defer it.Close()
		var pairs [][]byte
		for it.First(); it.Valid(); it.Next() {
			pairs = append(pairs, clone(it.Key()[len(keyFunctionPrefix):]), clone(it.Value()))
		}
		c.replyArray(len(pairs))
		for _, p := range pairs {
			c.replyBulk(p)
		}
	default:
		c.replyError(errSyntax)
	}
}
