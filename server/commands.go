package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// rowFunc builds a server command row.
type rowFunc = func(name string, arity int, flags engine.Flags, group, summary string, run func(*Server, *client, [][]byte)) *command

// serverCommands are the rows the server answers itself.
func serverCommands() []*command {
	row := func(name string, arity int, flags engine.Flags, group, summary string, run func(*Server, *client, [][]byte)) *command {
		return &command{Spec: engine.Spec{Name: name, Arity: arity, Flags: flags, Group: group, Summary: summary}, run: run}
	}
	const any = engine.Loading | engine.Stale
	rows := []*command{
		row("ping", -1, engine.Fast|engine.Stale, "connection", "Ping the server", cmdPing),
		row("echo", 2, engine.Fast|engine.Stale, "connection", "Echo the given string", cmdEcho),
		row("quit", -1, engine.NoAuth|any|engine.Fast, "connection", "Close the connection", cmdQuit),
		row("auth", -2, engine.NoAuth|any|engine.Fast, "connection", "Authenticate to the server", cmdAuth),
		row("hello", -1, engine.NoAuth|any|engine.Fast, "connection", "Handshake with Redis", cmdHello),
		row("client", -2, engine.Admin|any, "connection", "A container for client connection commands", cmdClient),
		row("command", -1, any, "server", "Get array of Redis command details", cmdCommand),
		row("info", -1, any, "server", "Get information and statistics about the server", cmdInfo),
		row("config", -2, engine.Admin|any, "server", "A container for server configuration commands", cmdConfig),
		row("time", 1, any|engine.Fast, "server", "Return the current server time", cmdTime),
		row("lastsave", 1, any|engine.Fast, "server", "Get the UNIX time stamp of the last successful save to disk", cmdLastSave),
		row("lolwut", -1, engine.ReadOnly|engine.Fast, "server", "Display some computer art and the Redis version", cmdLolwut),
		row("save", 1, engine.Admin|engine.NoMulti, "server", "Synchronously save the dataset to disk", cmdSave),
		row("bgsave", -1, engine.Admin, "server", "Asynchronously save the dataset to disk", cmdSave),
		row("bgrewriteaof", 1, engine.Admin, "server", "Asynchronously rewrite the append-only file", cmdBgRewriteAOF),
		row("shutdown", -1, engine.Admin|any|engine.NoMulti, "server", "Synchronously save the dataset to disk and then shut down the server", cmdShutdown),
		row("debug", -2, engine.Admin|any, "server", "A container for debugging commands", cmdDebug),
		memoryRow(row),
		row("latency", -2, engine.Admin|any, "server", "A container for latency diagnostics commands", cmdLatency),
		row("slowlog", -2, engine.Admin|any, "server", "A container for slow log commands", cmdSlowlog),
		row("monitor", 1, engine.Admin|any, "server", "Listen for all requests received by the server in real time", cmdMonitor),
		row("reset", 1, engine.NoAuth|any|engine.Fast, "connection", "Reset the connection", cmdReset),
		row("multi", 1, any|engine.Fast, "transactions", "Mark the start of a transaction block", cmdMulti),
		row("exec", 1, any, "transactions", "Execute all commands issued after MULTI", cmdExec),
		row("discard", 1, any|engine.Fast, "transactions", "Discard all commands issued after MULTI", cmdDiscard),
		row("watch", -2, any|engine.Fast|engine.NoMulti, "transactions", "Watch the given keys to determine execution of the MULTI/EXEC block", cmdWatch),
		row("unwatch", 1, any|engine.Fast, "transactions", "Forget about all watched keys", cmdUnwatch),
	}
	rows[len(rows)-1].FirstKey = 0
	for _, r := range rows {
		if r.Name == "watch" {
			r.FirstKey, r.LastKey, r.Step = 1, -1, 1
		}
	}
	rows = append(rows, migrateRow(row))
	rows = append(rows, clusterCommands(row)...)
	rows = append(rows, replicationCommands(row)...)
	rows = append(rows, pubsubCommands(row)...)
	rows = append(rows, blockingCommands()...)
	rows = append(rows, aclCommands(row)...)
	rows = append(rows, scriptCommands(row)...)
	rows = append(rows, functionCommands(row)...)
	return rows
}

func cmdPing(s *Server, cl *client, args [][]byte) {
	switch {
	case len(args) > 2:
		cl.err("ERR wrong number of arguments for 'ping' command")
	case cl.subs.Load() > 0 && !cl.sess.RESP3: // RESP3 has no subscribed mode's PING
		cl.array(2)
		cl.bulkString("pong")
		if len(args) == 2 {
			cl.bulk(args[1])
		} else {
			cl.bulkString("")
		}
	case len(args) == 2:
		cl.bulk(args[1])
	default:
		cl.status("PONG")
	}
}

func cmdEcho(s *Server, cl *client, args [][]byte) { cl.bulk(args[1]) }

// LOLWUT [VERSION version]: Redis 7.0 draws computer art for versions 5
// and 6 and replies only its version line for any other; walrus draws
// none, and replies the version line for every version.
func cmdLolwut(s *Server, cl *client, args [][]byte) {
	if len(args) >= 3 && strings.EqualFold(string(args[1]), "version") {
		if _, err := engine.ParseInt(args[2]); err != nil {
			cl.err("ERR value is not an integer or out of range")
			return
		}
	}
	cl.verbatim("Redis ver. " + Version + "\n")
}

func cmdQuit(s *Server, cl *client, args [][]byte) {
	cl.ok()
	cl.conn.WriteRaw(cl.out)
	cl.out = cl.out[:0]
	cl.conn.Close()
}

// AUTH [username] password
func cmdAuth(s *Server, cl *client, args [][]byte) {
	if len(args) > 3 {
		cl.err("ERR syntax error")
		return
	}
	user := "default"
	if len(args) == 3 {
		user = string(args[1])
	} else if s.acl.defaultNoPass() {
		cl.err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	u := s.acl.authenticate(user, args[len(args)-1])
	if u == nil {
		s.logACLDenial(cl, aclDeniedAuth, string(args[0]), user)
		cl.err(errWrongPass)
		return
	}
	cl.login(u)
	cl.ok()
}

const errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

// HELLO [protover [AUTH username password] [SETNAME clientname]]
func cmdHello(s *Server, cl *client, args [][]byte) {
	resp3 := cl.sess.RESP3
	if len(args) >= 2 {
		ver, err := strconv.ParseInt(string(args[1]), 10, 64)
		if err != nil {
			cl.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if ver != 2 && ver != 3 {
			cl.err("NOPROTO unsupported protocol version")
			return
		}
		resp3 = ver == 3
	}
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "auth":
			if i+2 >= len(args) {
				cl.err("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
				return
			}
			u := s.acl.authenticate(string(args[i+1]), args[i+2])
			if u == nil {
				s.logACLDenial(cl, aclDeniedAuth, string(args[0]), string(args[i+1]))
				cl.err(errWrongPass)
				return
			}
			cl.login(u)
			i += 2
		case "setname":
			if i+1 >= len(args) {
				cl.err("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
				return
			}
			if !validName(args[i+1]) {
				cl.err("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			cl.setName(string(args[i+1]))
			i++
		default:
			cl.err("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if !cl.authed {
		cl.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	cl.sess.RESP3 = resp3
	cl.mapLen(7)
	cl.bulkString("server")
	cl.bulkString("redis")
	cl.bulkString("version")
	cl.bulkString(Version)
	cl.bulkString("proto")
	if resp3 {
		cl.integer(3)
	} else {
		cl.integer(2)
	}
	cl.bulkString("id")
	cl.integer(cl.id)
	cl.bulkString("mode")
	cl.bulkString("standalone")
	cl.bulkString("role")
	cl.bulkString(s.repl.roleName())
	cl.bulkString("modules")
	cl.array(0)
}

func validName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

func cmdClient(s *Server, cl *client, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "id" && len(args) == 2:
		cl.integer(cl.id)
	case sub == "tracking" && len(args) >= 3:
		s.clientTracking(cl, args)
	case sub == "caching" && len(args) == 3:
		s.clientCaching(cl, args)
	case sub == "getredir" && len(args) == 2:
		s.clientGetRedir(cl)
	case sub == "trackinginfo" && len(args) == 2:
		s.clientTrackingInfo(cl)
	case sub == "getname" && len(args) == 2:
		if n := cl.getName(); n != "" {
			cl.bulkString(n)
		} else {
			cl.null()
		}
	case sub == "setname" && len(args) == 3:
		if !validName(args[2]) {
			cl.err("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		cl.setName(string(args[2]))
		cl.ok()
	case sub == "setinfo" && len(args) == 4:
		cl.ok()
	case sub == "info" && len(args) == 2:
		cl.verbatim(cl.info() + "\n")
	case sub == "list":
		s.clientList(cl, args[2:])
	case sub == "pause" && (len(args) == 3 || len(args) == 4):
		s.clientPause(cl, args)
	case sub == "unblock" && (len(args) == 3 || len(args) == 4):
		id, err := strconv.ParseInt(string(args[2]), 10, 64)
		if err != nil {
			cl.err("ERR value is not an integer or out of range")
			return
		}
		reply := "*-1\r\n" // as if timed out
		if len(args) == 4 {
			switch strings.ToLower(string(args[3])) {
			case "timeout":
			case "error":
				reply = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
			default:
				cl.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
				return
			}
		}
		cl.integer(int64(boolInt(s.block.unblock(id, reply))))
	case sub == "reply" && len(args) == 3:
		switch strings.ToLower(string(args[2])) {
		case "on":
			cl.replyOff, cl.replySkip = false, false
			cl.ok()
		case "off":
			cl.replyOff = true
		case "skip":
			if !cl.replyOff {
				cl.replySkipNext = true
			}
		default:
			cl.err("ERR syntax error")
		}
	case sub == "no-evict" && len(args) == 3:
		switch strings.ToLower(string(args[2])) {
		case "on", "off": // walrus evicts nothing
			cl.ok()
		default:
			cl.err("ERR syntax error")
		}
	case sub == "unpause" && len(args) == 2:
		s.pause.unpause(pauseByClient)
		cl.ok()
	case sub == "kill" && len(args) >= 3:
		s.clientKill(cl, args[2:])
	case sub == "help":
		cl.statusLines(clientHelp)
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try CLIENT HELP.")
	}
}

// clientHelp is Redis 7.0's reply to CLIENT HELP.
var clientHelp = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"HELP",
	"    Prints this help.",
}

// clientTypes are the types CLIENT LIST and CLIENT KILL know, as Redis's.
var clientTypes = map[string]bool{"normal": true, "pubsub": true, "master": true, "replica": true, "slave": true}

// kind is the client's type for CLIENT LIST and CLIENT KILL: the clients
// in the table are "normal" or, subscribed to something, "pubsub".
func (cl *client) kind() string {
	if cl.subs.Load() > 0 {
		return "pubsub"
	}
	return "normal"
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] | CLIENT LIST ID id [id ...]
func (s *Server) clientList(cl *client, args [][]byte) {
	keep := func(*client) bool { return true }
	switch {
	case len(args) == 0:
	case len(args) == 2 && strings.EqualFold(string(args[0]), "type"):
		typ := strings.ToLower(string(args[1]))
		if !clientTypes[typ] {
			cl.err("ERR Unknown client type '" + string(args[1]) + "'")
			return
		}
		// The replication links (master, replica) are not in the table.
		keep = func(c *client) bool { return c.kind() == typ }
	case len(args) >= 2 && strings.EqualFold(string(args[0]), "id"):
		ids := map[int64]bool{}
		for _, a := range args[1:] {
			id, err := strconv.ParseInt(string(a), 10, 64)
			if err != nil {
				cl.err("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
		keep = func(c *client) bool { return ids[c.id] }
	default:
		cl.err("ERR syntax error")
		return
	}
	s.mu.Lock()
	var b strings.Builder
	for _, c := range s.sortedClients() {
		if keep(c) {
			b.WriteString(c.info())
			b.WriteByte('\n')
		}
	}
	s.mu.Unlock()
	cl.verbatim(b.String())
}

// sortedClients returns the clients by id; s.mu must be held.
func (s *Server) sortedClients() []*client {
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].id < out[j-1].id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER name]
// [ADDR ip:port] [LADDR ip:port] [SKIPME yes/no] [MAXAGE seconds]
func (s *Server) clientKill(cl *client, args [][]byte) {
	if len(args) == 1 {
		s.mu.Lock()
		var victim *client
		for _, c := range s.clients {
			if c.addr == string(args[0]) {
				victim = c
			}
		}
		s.mu.Unlock()
		if victim == nil {
			cl.err("ERR No such client")
			return
		}
		cl.ok()
		s.kill(cl, victim)
		return
	}
	if len(args)%2 != 0 {
		cl.err("ERR syntax error")
		return
	}
	var id, maxAge int64 = -1, -1
	var user *aclUser
	addr, laddr, typ, skipme := "", "", "", true
	for i := 0; i < len(args); i += 2 {
		v := string(args[i+1])
		switch strings.ToLower(string(args[i])) {
		case "id":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				cl.err("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "addr":
			addr = v
		case "laddr":
			laddr = v
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				skipme = true
			case "no":
				skipme = false
			default:
				cl.err("ERR syntax error")
				return
			}
		case "user":
			if user = s.acl.user(v); user == nil {
				cl.err("ERR No such user '" + v + "'")
				return
			}
		case "type":
			if typ = strings.ToLower(v); !clientTypes[typ] {
				cl.err("ERR Unknown client type '" + v + "'")
				return
			}
		case "maxage": // Redis 7.4's
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				cl.err("ERR syntax error")
				return
			}
			maxAge = n
		default:
			cl.err("ERR syntax error")
			return
		}
	}
	// The replication links are not clients of the table: TYPE master
	// drops this replica's link to its master (it reconnects and resumes),
	// TYPE replica drops this node's replicas (they reconnect and resume).
	// Only TYPE and SKIPME can single them out.
	if typ == "master" || typ == "replica" || typ == "slave" {
		n := 0
		if id < 0 && addr == "" && laddr == "" && user == nil && maxAge < 0 {
			n = s.repl.dropLinks(typ == "master")
		}
		cl.integer(int64(n))
		return
	}
	now := time.Now()
	var victims []*client
	s.mu.Lock()
	for _, c := range s.clients {
		if (id >= 0 && c.id != id) || (addr != "" && c.addr != addr) || (laddr != "" && c.laddr != laddr) ||
			(user != nil && c.user.Load() != user) || (skipme && c == cl) ||
			(typ != "" && c.kind() != typ) ||
			(maxAge >= 0 && now.Sub(c.created) < time.Duration(maxAge)*time.Second) ||
			!c.killed.CompareAndSwap(false, true) { // one already closed counts once
			continue
		}
		victims = append(victims, c)
	}
	s.mu.Unlock()
	cl.integer(int64(len(victims)))
	for _, v := range victims {
		s.kill(cl, v)
	}
}

// kill closes a client; the caller itself is closed after its reply.
func (s *Server) kill(self, victim *client) {
	victim.killed.Store(true)
	if victim == self {
		self.conn.WriteRaw(self.out)
		self.out = self.out[:0]
		self.conn.Close()
		return
	}
	// Another client's goroutine may be writing to its redcon writer:
	// close the socket, and its read loop ends and removes it.
	victim.conn.NetConn().Close()
}

func cmdTime(s *Server, cl *client, args [][]byte) {
	now := time.Now()
	cl.array(2)
	cl.bulkString(strconv.FormatInt(now.Unix(), 10))
	cl.bulkString(strconv.Itoa(now.Nanosecond() / 1000))
}

func cmdLastSave(s *Server, cl *client, args [][]byte) { cl.integer(s.eng.LastSave()) }

// SAVE / BGSAVE: a Pebble checkpoint under dir (both finish before the
// reply: a checkpoint is hard links and takes milliseconds).
func cmdSave(s *Server, cl *client, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !strings.EqualFold(string(args[1]), "schedule")) {
		cl.err("ERR syntax error")
		return
	}
	start := time.Now()
	if err := s.eng.Save(s.cfg.Dir); err != nil {
		s.log.Error("save failed", "err", err)
		cl.err("ERR " + err.Error())
		return
	}
	if err := s.saveRDB(); err != nil {
		s.log.Error("save of the RDB file failed", "err", err)
		cl.err("ERR " + err.Error())
		return
	}
	s.stats.saves.Add(1)
	if strings.EqualFold(string(args[0]), "bgsave") {
		s.stats.lastBgsave.Store(int64(time.Since(start)))
		cl.status("Background saving started")
		return
	}
	cl.ok()
}

// BGREWRITEAOF: the log is never rewritten, but it is made as small as
// it may be: Pebble is flushed and the entries nobody needs are dropped.
// It runs before the reply (a flush takes milliseconds), so the rewrite
// Redis announces as started is already done.
func cmdBgRewriteAOF(s *Server, cl *client, _ [][]byte) {
	start := time.Now()
	err := s.eng.CompactLog()
	s.stats.lastRewrite.Store(int64(time.Since(start)))
	if err != nil {
		s.stats.rewriteFailures.Add(1)
		s.log.Error("log compaction failed", "err", err)
		cl.err("ERR " + err.Error())
		return
	}
	s.stats.rewrites.Add(1)
	s.stats.rewriteFailures.Store(0)
	cl.status("Background append only file rewriting started")
}

// debugHelp is DEBUG HELP: Redis's lines for the subcommands walrus has,
// and FLUSH, walrus's own.
var debugHelp = []string{
	"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"FLUSH",
	"    Flush Pebble's memtables to its tables (walrus's own).",
	"LOG <message>",
	"    Write <message> to the server log.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"HELP",
	"    Prints this help.",
}

// DEBUG DIGEST | DIGEST-VALUE key... | SLEEP seconds | FLUSH | PROTOCOL
// type | OBJECT key | POPULATE | ERROR string | LOG message |
// SET-ACTIVE-EXPIRE 0|1 | HELP
func cmdDebug(s *Server, cl *client, args [][]byte) {
	switch sub := strings.ToLower(string(args[1])); {
	case sub == "help" && len(args) == 2:
		cl.statusLines(debugHelp)
	case sub == "error" && len(args) == 3:
		cl.err(string(args[2]))
	case sub == "log" && len(args) == 3:
		s.log.Warn("DEBUG LOG: " + string(args[2]))
		cl.ok()
	case sub == "set-active-expire" && len(args) == 3:
		n, _ := strconv.Atoi(string(args[2])) // as Redis's atoi: not a number is 0
		s.eng.SetActiveExpire(n != 0)
		cl.ok()
	case sub == "digest" && len(args) == 2:
		cl.status(s.eng.Digest())
	case sub == "digest-value":
		ds := s.eng.DigestValue(cl.sess, args[2:])
		cl.array(len(ds))
		for _, d := range ds {
			cl.status(d)
		}
	case sub == "sleep" && len(args) == 3:
		f, err := strconv.ParseFloat(string(args[2]), 64)
		if err != nil || f < 0 {
			cl.err("ERR value is not a valid float")
			return
		}
		time.Sleep(time.Duration(f * float64(time.Second)))
		cl.ok()
	case sub == "populate" && len(args) >= 3 && len(args) <= 5:
		s.debugPopulate(cl, args)
	case sub == "flush":
		if _, err := s.eng.Flush(); err != nil {
			cl.err("ERR " + err.Error())
			return
		}
		cl.ok()
	case sub == "protocol" && len(args) == 3:
		debugProtocol(cl, strings.ToLower(string(args[2])))
	case sub == "object" && len(args) == 3:
		line, ok := s.eng.DebugObject(cl.sess, args[2])
		if !ok {
			cl.err("ERR no such key")
			return
		}
		cl.status(line)
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + clip(string(args[1])) + "'. Try DEBUG HELP.")
	}
}

// debugProtocol is DEBUG PROTOCOL type: a reply of each of RESP3's types,
// Redis's own, which clients' tests read (RESP2: each one's RESP2 form).
func debugProtocol(cl *client, typ string) {
	switch typ {
	case "string":
		cl.bulkString("Hello World")
	case "integer":
		cl.integer(12345)
	case "double":
		cl.double(3.141)
	case "bignum":
		if cl.sess.RESP3 {
			cl.out = append(cl.out, "(1234567999999999999999999999999999999\r\n"...)
		} else {
			cl.bulkString("1234567999999999999999999999999999999")
		}
	case "null":
		cl.null()
	case "array", "set", "map":
		switch typ {
		case "array":
			cl.array(3)
		case "set":
			cl.setLen(3)
		default:
			cl.mapLen(3)
		}
		for i := range 3 {
			cl.integer(int64(i))
			if typ == "map" {
				cl.boolean(i == 1)
			}
		}
	case "attrib":
		if cl.sess.RESP3 { // RESP2 has no attributes
			cl.out = append(cl.out, "|1\r\n"...)
			cl.bulkString("key-popularity")
			cl.array(2)
			cl.bulkString("key:123")
			cl.integer(90)
		}
		cl.bulkString("Some real reply following the attribute")
	case "push":
		if !cl.sess.RESP3 {
			cl.err("ERR RESP2 is not supported by this command")
			return
		}
		cl.out = engine.AppendPush(cl.out, true, 2)
		cl.bulkString("server-cpu-usage")
		cl.integer(42)
		cl.bulkString("Some real reply following the push reply")
	case "verbatim":
		cl.verbatim("This is a verbatim\nstring")
	case "true", "false":
		cl.boolean(typ == "true")
	default:
		cl.err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

func cmdMulti(s *Server, cl *client, args [][]byte) {
	if cl.inMulti() {
		cl.err("ERR MULTI calls can not be nested")
		return
	}
	cl.beginMulti()
	cl.ok()
}

func cmdExec(s *Server, cl *client, args [][]byte) {
	defer s.trackExecRan(cl) // CLIENT TRACKING: a queue that turned it on, or did not
	if !cl.inMulti() {
		cl.err("ERR EXEC without MULTI")
		return
	}
	queued, failed := cl.queued, cl.multiErr
	abort := func(msg string) {
		cl.endMulti()
		s.eng.Unwatch(cl.sess)
		cl.err(msg)
	}
	if failed {
		abort("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	for _, args := range queued {
		if c := s.lookup(args[0]); c != nil {
			if msg := s.repl.check(cl, c, args); msg != "" {
				abort("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
				return
			}
		}
	}
	// The transaction stays open while its queue runs, as in Redis: ACL
	// LOG gives the denials then (the re-check's, a failed AUTH's) the
	// multi context, and client-info shows the transaction.
	defer cl.endMulti()
	recheck := func(args [][]byte) string { return s.aclRecheck(cl, args) }
	runServer := func(args [][]byte, out []byte) []byte {
		// (EVAL among them runs in the transaction: see foreign.)
		c := s.lookup(args[0])
		saved := cl.out
		cl.out = out
		s.runCounted(c, cl, args)
		out = cl.out
		cl.out = saved
		return out
	}
	engineCmds := 0
	for _, a := range queued {
		if c := s.lookup(a[0]); c != nil && (c.eng != nil || runsInCommitter(c)) {
			engineCmds++
		}
	}
	if engineCmds == 0 {
		// Only server commands (Sentinel's MULTI, SLAVEOF NO ONE, CONFIG
		// REWRITE, CLIENT KILL, EXEC): nothing for the log; run them here.
		if cl.sess.WatchFailed() {
			s.eng.Unwatch(cl.sess)
			cl.nullArray()
			return
		}
		s.eng.Unwatch(cl.sess)
		cl.array(len(queued))
		for _, a := range queued {
			if msg := recheck(a); msg != "" {
				cl.err(msg)
				continue
			}
			cl.out = runServer(a, cl.out)
		}
		return
	}
	// Server commands among data commands run inside the committer, in
	// order; those that block or change the role cannot.
	foreign := func(args [][]byte, out []byte, run func([][]byte) []byte) []byte {
		c := s.lookup(args[0])
		switch {
		case c == nil || c.run == nil:
			return appendError(out, "ERR unknown command '"+string(args[0])+"'")
		case runsInCommitter(c):
			cl.txnRun = run
			defer func() { cl.txnRun = nil }()
		case c.Flags&engine.Blocking != 0 || c.Name == "replicaof" || c.Name == "slaveof" || c.Name == "shutdown" || c.Name == "wait" || c.Name == "waitaof" || c.Name == "debug" || c.Name == "failover":
			return appendError(out, "ERR '"+c.Name+"' cannot run in a transaction that also changes data")
		}
		return runServer(args, out)
	}
	cl.out = s.eng.ExecMulti(cl.sess, queued, recheck, cl.out, foreign)
	cl.db.Store(int64(cl.sess.DB))
}

func cmdDiscard(s *Server, cl *client, args [][]byte) {
	if !cl.inMulti() {
		cl.err("ERR DISCARD without MULTI")
		return
	}
	cl.endMulti()
	s.eng.Unwatch(cl.sess)
	cl.ok()
}

func cmdWatch(s *Server, cl *client, args [][]byte) {
	if cl.inMulti() {
		cl.err("ERR WATCH inside MULTI is not allowed")
		return
	}
	s.eng.Watch(cl.sess, args[1:])
	cl.ok()
}

func cmdUnwatch(s *Server, cl *client, args [][]byte) {
	s.eng.Unwatch(cl.sess)
	cl.ok()
}
