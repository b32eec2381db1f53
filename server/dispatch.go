package server

import (
	"strings"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// command is one row of the server's table: an engine command (eng set)
// or a server command (run set).
type command struct {
	engine.Spec
	eng  *engine.Command
	run  func(s *Server, cl *client, args [][]byte)
	id   int                // bit in an ACL user's command set (numberCommands)
	cats aclCats            // ACL categories
	subs map[string]*aclSub // a container's subcommands, for ACL rules (aclsub.go)
	stat cmdStat            // INFO commandstats (cmdstats.go)
}

// buildTable merges the engine's commands with the server's and applies
// rename-command.
func (s *Server) buildTable() error {
	t := map[string]*command{}
	for _, c := range engine.Commands() {
		t[c.Name] = &command{Spec: c.Spec, eng: c}
	}
	for _, c := range serverCommands() {
		t[c.Name] = c
	}
	for _, r := range s.cfg.RenameCommands {
		c, ok := t[r.Name]
		if !ok {
			return &renameError{r.Name}
		}
		delete(t, r.Name)
		if r.NewName != "" {
			t[strings.ToLower(r.NewName)] = c
		}
		s.renamed = true
	}
	s.table = t
	s.cmds = numberCommands(t)
	s.engRows = make([]*command, engine.NumCommands())
	for _, c := range s.cmds {
		if c.eng != nil {
			s.engRows[c.eng.ID()] = c
		}
		c.stat.fast = c.Flags&engine.Fast != 0
	}
	return nil
}

type renameError struct{ name string }

func (e *renameError) Error() string { return "rename-command: no such command '" + e.name + "'" }

// lookup finds a row by name, case-insensitively, without allocating for
// short names.
func (s *Server) lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return s.table[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return s.table[string(buf[:len(name)])]
}

// handle serves a connection's pipeline: the command redcon handed over
// plus every other command parsed from the same read.
func (s *Server) handle(conn redcon.Conn, first redcon.Command) {
	cl, ok := conn.Context().(*client)
	if !ok {
		conn.Close()
		return
	}
	rest := conn.ReadPipeline()
	cmds := make([][][]byte, 0, 1+len(rest))
	cmds = append(cmds, first.Args)
	for _, c := range rest {
		cmds = append(cmds, c.Args)
	}
	s.stats.commands.Add(int64(len(cmds)))
	cl.lastActive.Store(time.Now().UnixMilli())
	cl.busy.Store(true)
	defer cl.busy.Store(false)
	out := s.dispatch(cl, cmds, cl.out[:0])
	s.wakeBlocked(cmds) // serve clients blocked on keys these writes filled
	if cl.detached {
		return
	}
	if len(out) > 0 {
		conn.WriteRaw(out)
	}
	if cap(out) <= 64<<10 {
		cl.out = out[:0]
	} else {
		cl.out = nil
	}
}

// dispatch runs a pipeline in order. Consecutive engine commands travel
// to the engine as one request; server commands run between them.
func (s *Server) dispatch(cl *client, cmds [][][]byte, out []byte) []byte {
	runStart := -1
	flush := func(end int) {
		if runStart >= 0 {
			out = s.eng.Exec(cl.sess, cmds[runStart:end], out)
			cl.db.Store(int64(cl.sess.DB))
			runStart = -1
		}
	}
	for i, args := range cmds {
		if len(args) == 0 {
			continue
		}
		if (cl.replyOff || cl.replySkip) && !cl.replyAlone {
			// CLIENT REPLY OFF or SKIP: the command runs on its own and
			// its reply is dropped, unless it was CLIENT REPLY ON.
			flush(i)
			mark := len(out)
			cl.replyAlone = true
			out = s.dispatch(cl, [][][]byte{args}, out)
			cl.replyAlone = false
			if cl.detached {
				return out
			}
			if cl.replyOff || cl.replySkip {
				out = out[:mark]
			}
			cl.nextReply()
			continue
		}
		c, errMsg := s.check(cl, args)
		for errMsg == "" && s.pauseHolds(cl, c) {
			flush(i)
			if !s.waitPause(cl, c) {
				return out // the client is gone or the server stops
			}
			c, errMsg = s.check(cl, args) // the server may be a replica now
		}
		if errMsg != "" {
			flush(i)
			if cl.inMulti() && !isMultiControl(args[0]) {
				cl.multiErr = true
			}
			if row := s.lookup(args[0]); row != nil && row.Name == "exec" {
				// A refused EXEC discards the transaction, as in Redis.
				cl.endMulti()
				s.eng.Unwatch(cl.sess)
				errMsg = "EXECABORT Transaction discarded because of: " + errMsg
			}
			s.countRejected(args, errMsg)
			out = appendError(out, errMsg)
			continue
		}
		if cl.inMulti() && !isMultiControl(args[0]) {
			flush(i)
			cl.queue(args)
			out = append(out, "+QUEUED\r\n"...)
			continue
		}
		s.trackCommand(cl, c, args)       // CLIENT TRACKING (tracking.go)
		if c.eng != nil && c.run == nil { // blocking rows have both: run blocks outside MULTI
			if runStart < 0 {
				runStart = i
			}
			continue
		}
		flush(i)
		cl.out = out
		s.runCounted(c, cl, args)
		out = cl.out
		if cl.detached {
			return out
		}
		if !cl.replyAlone {
			cl.nextReply()
		}
	}
	flush(len(cmds))
	return out
}

func isMultiControl(name []byte) bool {
	switch strings.ToLower(string(name)) {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// check applies the row's rules in Redis's order: existence (a
// subcommand's too), arity, auth, ACL (acl.go), then the role rules. It
// returns the row or Redis's error text.
func (s *Server) check(cl *client, args [][]byte) (*command, string) {
	c := s.lookup(args[0])
	if c == nil {
		var b strings.Builder
		b.WriteString("ERR unknown command '")
		b.WriteString(clip(string(args[0])))
		b.WriteString("', with args beginning with: ")
		for _, a := range args[1:] {
			if b.Len() > 256 {
				break
			}
			b.WriteString("'" + clip(string(a)) + "' ")
		}
		return nil, b.String()
	}
	if s.renamed && c.eng != nil {
		args[0] = []byte(c.Name) // the engine knows commands by their real names
	}
	sub, unknown := subcommand(c, args)
	name := c.Name
	if sub != nil {
		name = sub.name // "client|list", as Redis shows it
	}
	cl.mu.Lock()
	cl.lastCmd = name
	cl.mu.Unlock()
	if unknown {
		return nil, unknownSubcommand(args)
	}
	if sub != nil {
		if msg := sub.arityError(len(args)); msg != "" {
			return nil, msg
		}
	}
	if !c.ArityOK(len(args)) {
		return nil, "ERR wrong number of arguments for '" + c.Name + "' command"
	}
	if !cl.authed && c.Flags&engine.NoAuth == 0 {
		return nil, "NOAUTH Authentication required."
	}
	if msg := s.aclDenied(cl, c, args); msg != "" {
		return nil, msg
	}
	if cl.inMulti() && c.Flags&engine.NoMulti != 0 {
		return nil, "ERR Command not allowed inside a transaction"
	}
	if s.mem.over.Load() && s.oomRefuses(cl, c, sub) {
		return nil, errOOM
	}
	if msg := s.subscribeModeError(cl, name); msg != "" {
		return nil, msg
	}
	if msg := s.repl.check(cl, c, args); msg != "" {
		return nil, msg
	}
	if msg := s.busyError(c, args); msg != "" {
		return nil, msg
	}
	if cl.monitor.Load() && c.eng != nil {
		return nil, "ERR Replica can't interact with the keyspace"
	}
	return c, ""
}

func clip(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

func appendError(out []byte, msg string) []byte {
	if strings.ContainsAny(msg, "\r\n") {
		// An error echoing a client's argument stays one line, as in
		// Redis (addReplyErrorFormat).
		msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	}
	out = append(out, '-')
	out = append(out, msg...)
	return append(out, '\r', '\n')
}

// reply helpers for server handlers: they append to cl.out.
func (cl *client) ok()                 { cl.out = append(cl.out, "+OK\r\n"...) }
func (cl *client) err(msg string)      { cl.out = appendError(cl.out, msg) }
func (cl *client) status(s string)     { cl.out = redcon.AppendString(cl.out, s) }
func (cl *client) bulk(b []byte)       { cl.out = redcon.AppendBulk(cl.out, b) }
func (cl *client) bulkString(s string) { cl.out = redcon.AppendBulkString(cl.out, s) }
func (cl *client) integer(n int64)     { cl.out = redcon.AppendInt(cl.out, n) }
func (cl *client) array(n int)         { cl.out = redcon.AppendArray(cl.out, n) }
func (cl *client) null()               { cl.out = engine.AppendNull(cl.out, cl.sess.RESP3) }
func (cl *client) nullArray()          { cl.out = engine.AppendNullArray(cl.out, cl.sess.RESP3) }
func (cl *client) mapLen(n int)        { cl.out = engine.AppendMap(cl.out, cl.sess.RESP3, n) }
func (cl *client) setLen(n int)        { cl.out = engine.AppendSet(cl.out, cl.sess.RESP3, n) }
func (cl *client) double(f float64)    { cl.out = engine.AppendDouble(cl.out, cl.sess.RESP3, f) }
func (cl *client) boolean(v bool)      { cl.out = engine.AppendBool(cl.out, cl.sess.RESP3, v) }
func (cl *client) verbatim(s string)   { cl.out = engine.AppendVerbatim(cl.out, cl.sess.RESP3, s) }

// statusLines replies an array of status lines (a container's HELP).
func (cl *client) statusLines(lines []string) {
	cl.array(len(lines))
	for _, l := range lines {
		cl.status(l)
	}
}
