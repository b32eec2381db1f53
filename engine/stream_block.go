package engine

import (
	"strings"
	"time"
)

// What the server's blocking rows need to block XREAD and XREADGROUP:
// the BLOCK timeout, and XREAD's "$" fixed to the IDs it stands for when
// the client starts waiting (the engine's form, retried on each wake-up,
// would otherwise read "$" anew each time and never serve anything).

// StreamBlockTimeout returns the BLOCK option of an XREAD or XREADGROUP
// (0: forever); ok is false when there is none, or when the options do
// not parse (the engine's form then answers the error).
func StreamBlockTimeout(args [][]byte) (timeout time.Duration, ok bool) {
	c := &ctx{}
	r, valid := c.parseStreamRead(args)
	if !valid || r.block < 0 {
		return 0, false
	}
	return time.Duration(r.block) * time.Millisecond, true
}

// retried reports whether the server runs a blocking command again while
// its client waits (so its null reply is not a call of its own): every
// one but XREAD and XREADGROUP without BLOCK.
func retried(cmd *Command, args [][]byte) bool {
	if cmd.KeysAfter == "" {
		return true
	}
	_, blocks := StreamBlockTimeout(args)
	return blocks
}

// ResolveStreamIDs returns XREAD's args with each "$" replaced by the
// last ID of its stream (0-0 for a missing key), as Redis fixes them
// when it blocks the client. Other commands, and a "$" whose key holds
// another type (the attempt answers WRONGTYPE), are left as they are.
func (e *Engine) ResolveStreamIDs(s *Session, args [][]byte) [][]byte {
	if !strings.EqualFold(string(args[0]), "xread") {
		return args
	}
	c := &ctx{}
	r, ok := c.parseStreamRead(args)
	if !ok {
		return args
	}
	e.swap.RLock()
	defer e.swap.RUnlock()
	rc := e.readCtx()
	rc.selectDB(s.DB)
	defer func() {
		if r := recover(); r != nil {
			if _, isStorage := r.(storageError); !isStorage {
				panic(r)
			}
		}
	}()
	out := append([][]byte(nil), args...)
	idsAt := len(args) - len(r.ids)
	for i, id := range r.ids {
		if string(id) != "$" {
			continue
		}
		m, found := rc.lookup(r.keys[i])
		switch {
		case !found:
			out[idsAt+i] = []byte("0-0")
		case m.typ == typeStream:
			out[idsAt+i] = decodeStream(m).last.bytes()
		}
	}
	return out
}
