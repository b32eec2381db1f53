package server

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as in
// Redis 7.0. A script runs inside the engine's committer (engine.Atomic):
// no other write runs while it does, the commands it calls see each
// other's writes, and their effects are logged as one MULTI/EXEC entry,
// so replicas apply the script's effects, never the script (Redis 7.0's
// effects replication). The Lua is gopher-lua's Lua 5.1, Redis's
// version, in a sandbox like Redis's: no os, io or file loading, and
// globals can be neither created nor read when missing.

// scripts is the script cache and the script running now.
type scripts struct {
	mu     sync.Mutex
	protos map[string]*lua.FunctionProto // compiled scripts by lowercase SHA1 hex
	shared *scriptVM                     // built at the first script
	bodies int64                         // bytes of the cached scripts' source

	running atomic.Pointer[scriptRun]
}

// scriptRun is a script being run, for SCRIPT KILL and BUSY replies.
type scriptRun struct {
	start  time.Time
	cancel context.CancelFunc
	wrote  atomic.Bool // it called a write command: SCRIPT KILL refuses
	killed atomic.Bool
}

func (sc *scripts) get(sha string) *lua.FunctionProto {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.protos[strings.ToLower(sha)]
}

// load compiles body and caches it; it returns the script's SHA1 hex.
func (sc *scripts) load(body []byte) (string, *lua.FunctionProto, error) {
	sum := sha1.Sum(body)
	sha := hex.EncodeToString(sum[:])
	if p := sc.get(sha); p != nil {
		return sha, p, nil
	}
	p, err := compileLua(body, scriptSource)
	if err != nil {
		return "", nil, err
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.protos == nil {
		sc.protos = map[string]*lua.FunctionProto{}
	}
	if _, ok := sc.protos[sha]; !ok {
		sc.bodies += int64(len(body))
	}
	sc.protos[sha] = p
	return sha, p, nil
}

// stop ends the running script, as SHUTDOWN NOSAVE does in Redis: what
// it wrote before stays, as when a script fails.
func (sc *scripts) stop() {
	if sr := sc.running.Load(); sr != nil {
		sr.cancel()
	}
}

func (sc *scripts) flush() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.protos = nil
	sc.bodies = 0
}

// cached returns the number of cached scripts and their source's bytes
// (INFO memory).
func (sc *scripts) cached() (n int, bytes int64) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.protos), sc.bodies
}

// compileLua compiles a chunk named source.
func compileLua(body []byte, source string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(body), source)
	if err != nil {
		return nil, err
	}
	if syntaxTooDeep(chunk, maxSyntaxDepth) {
		return nil, errors.New(source + ": chunk has too many syntax levels")
	}
	return lua.Compile(chunk, source)
}

// maxSyntaxDepth bounds the depth of a script's syntax tree. gopher-lua
// compiles the tree recursively, and a tree a few million levels deep
// (a 10 MB chain of additions) overflows the goroutine's stack, which
// ends the process. Lua's own parser refuses nesting past 200 levels;
// this bound is looser, so that long chains of additions or
// concatenations a few thousand terms long, which Lua's parser takes,
// still compile.
const maxSyntaxDepth = 20000

// syntaxTooDeep reports whether the syntax tree of chunk is deeper than
// limit. It walks the tree by reflection with a stack of its own: a
// recursive walk would overflow where the compiler does.
func syntaxTooDeep(chunk []ast.Stmt, limit int) bool {
	type item struct {
		v     reflect.Value
		depth int
	}
	stack := []item{{reflect.ValueOf(chunk), 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > limit {
			return true
		}
		v := it.v
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !v.IsNil() {
				stack = append(stack, item{v.Elem(), it.depth})
			}
		case reflect.Slice:
			for i := range v.Len() {
				stack = append(stack, item{v.Index(i), it.depth + 1})
			}
		case reflect.Struct:
			for i := range v.NumField() {
				switch v.Field(i).Kind() {
				case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Struct:
					stack = append(stack, item{v.Field(i), it.depth + 1})
				}
			}
		}
	}
	return false
}

// scriptSource is the chunk name errors report, as Redis's.
const scriptSource = "user_script"

func scriptCommands(row rowFunc) []*command {
	const flags = engine.Stale
	rows := []*command{
		row("eval", -3, flags, "scripting", "Execute a Lua script server side", cmdEval),
		row("evalsha", -3, flags, "scripting", "Execute a Lua script server side", cmdEval),
		row("eval_ro", -3, flags, "scripting", "Execute a read-only Lua script server side", cmdEval),
		row("evalsha_ro", -3, flags, "scripting", "Execute a read-only Lua script server side", cmdEval),
		row("script", -2, engine.Stale, "scripting", "A container for Lua scripts management commands", cmdScript),
	}
	for _, r := range rows[:4] {
		r.NumKeysAt = 2
	}
	return rows
}

// splitKeys splits EVAL's and FCALL's arguments after numkeys (args[2])
// into keys and the rest, or replies Redis's error.
func splitKeys(cl *client, args [][]byte) (keys, argv [][]byte, ok bool) {
	numkeys, err := strconv.ParseInt(string(args[2]), 10, 64)
	switch {
	case err != nil:
		cl.err("ERR value is not an integer or out of range")
	case numkeys < 0:
		cl.err("ERR Number of keys can't be negative")
	case numkeys > int64(len(args)-3):
		cl.err("ERR Number of keys can't be greater than number of args")
	default:
		return args[3 : 3+numkeys], args[3+numkeys:], true
	}
	return nil, nil, false
}

// EVAL script numkeys [key ...] [arg ...], and EVALSHA sha1 numkeys ...
func cmdEval(s *Server, cl *client, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	if c := s.lookup(args[0]); c != nil {
		name = c.Name
	}
	keys, argv, ok := splitKeys(cl, args)
	if !ok {
		return
	}
	var sha string
	var err error
	var proto *lua.FunctionProto
	if strings.HasPrefix(name, "evalsha") {
		sha = strings.ToLower(string(args[1]))
		if proto = s.scripts.get(sha); proto == nil {
			cl.err("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
	} else if sha, proto, err = s.scripts.load(args[1]); err != nil {
		cl.err("ERR Error compiling script (new function): " + err.Error())
		return
	}
	readOnly := strings.HasSuffix(name, "_ro")
	var reply []byte
	fail := s.atomic(cl, func(run func([][]byte) []byte) {
		reply = s.runScript(cl, proto, sha, keys, argv, readOnly, run)
	})
	if fail != "" {
		cl.err(fail)
		return
	}
	cl.out = append(cl.out, reply...)
}

// runScript runs a compiled script in the committer and returns its
// reply.
func (s *Server) runScript(cl *client, proto *lua.FunctionProto, sha string, keys, argv [][]byte, readOnly bool, run func([][]byte) []byte) []byte {
	vm := s.scripts.vm(s.log)
	vm.mu.Lock()
	defer vm.mu.Unlock()
	// Over maxmemory at its start, a script without flags may not begin
	// to write (Redis's scriptVerifyOOM).
	return s.runLua(vm, cl, run, readOnly, s.mem.over.Load(), sha, scriptSource, func(L *lua.LState) int {
		vm.globals.RawSetString("KEYS", luaStrings(L, keys))
		vm.globals.RawSetString("ARGV", luaStrings(L, argv))
		L.Push(L.NewFunctionFromProto(proto))
		return 0
	})
}

// runLua runs what push pushes (a function, then its nargs arguments) in
// the VM, whose lock the caller holds, and returns its reply; name and
// source mark its errors.
func (s *Server) runLua(vm *scriptVM, cl *client, run func([][]byte) []byte, readOnly, oom bool, name, source string, push func(L *lua.LState) (nargs int)) []byte {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sr := &scriptRun{start: time.Now(), cancel: cancel}
	s.scripts.running.Store(sr)
	defer s.scripts.running.Store(nil)

	defer vm.reset()
	sc := &scriptCall{s: s, cl: cl, sr: sr, run: run, readOnly: readOnly, oom: oom}
	vm.cur = sc
	defer func() { cl.sess.ScriptRESP3 = false }() // redis.setresp lasts one script
	L := vm.L
	nargs := push(L)
	L.SetContext(ctx)
	if err := L.PCall(nargs, 1, nil); err != nil {
		return scriptFailure(err, name, source, sr.killed.Load())
	}
	return luaReply{resp3: cl.sess.RESP3, scriptRESP3: sc.resp3}.append(nil, L.Get(-1), 0)
}

func luaStrings(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(lua.LString(it))
	}
	return t
}

// scriptVM is the Lua state scripts share. They run one at a time, in
// the committer, so one state serves them all (building one costs some
// 50 µs). What a script sees of the sandbox (the globals, the
// libraries, the redis table) are read-only views, as Redis 7.0 makes
// them read-only: empty tables that read through to the real ones and
// refuse assignment, with their metatables locked. A script can only
// put keys in a view itself (rawset), and reset empties the views, so
// no script sees what another left.
type scriptVM struct {
	mu      sync.Mutex
	L       *lua.LState
	globals *lua.LTable // the real globals, where KEYS and ARGV go
	views   []*lua.LTable
	cur     *scriptCall // the running script's: the redis table's functions use it
	threads int         // coroutines the running script created
	redis   *lua.LTable // the real redis table

	// Function libraries (function.go): the registry, and the engine's
	// FunctionsVersion it was loaded at.
	libs      map[string]*functionLib
	fns       map[string]*luaFunction
	fnVersion uint64
}

func (sc *scripts) vm(log *slog.Logger) *scriptVM {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.shared == nil {
		sc.shared = newScriptVM(log)
	}
	return sc.shared
}

func newScriptVM(log *slog.Logger) *scriptVM {
	L := newScriptState()
	vm := &scriptVM{L: L, globals: L.G.Global}
	vm.redis = redisTable(L, vm, log)
	vm.globals.RawSetString("redis", vm.redis)
	openScriptLibs(L, vm.globals)
	refuse := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	})
	view := func(t *lua.LTable) *lua.LTable {
		v, mt := L.NewTable(), L.NewTable()
		mt.RawSetString("__index", t)
		mt.RawSetString("__newindex", refuse)
		mt.RawSetString("__metatable", lua.LFalse)
		L.SetMetatable(v, mt)
		vm.views = append(vm.views, v)
		return v
	}
	strs := vm.globals.RawGetString(lua.StringLibName).(*lua.LTable)
	strs.RawSetString("rep", L.NewFunction(stringRep))
	// Each coroutine is a Lua state of its own, and resuming one nests a
	// Go call: a script that resumes a new coroutine from each one, on
	// and on, grew the process until the kernel killed it. A script may
	// create maxScriptThreads.
	co := vm.globals.RawGetString(lua.CoroutineLibName).(*lua.LTable)
	for _, name := range []string{"create", "wrap"} {
		orig := co.RawGetString(name).(*lua.LFunction).GFunction
		co.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if vm.threads++; vm.threads > maxScriptThreads {
				L.RaiseError("too many coroutines (a script may create %d)", maxScriptThreads)
			}
			return orig(L)
		}))
	}
	for _, name := range []string{"redis", "cjson", "bit", "cmsgpack", "struct", lua.TabLibName, lua.StringLibName, lua.MathLibName, lua.CoroutineLibName} {
		vm.globals.RawSetString(name, view(vm.globals.RawGetString(name).(*lua.LTable)))
	}
	// Strings' methods read the real string table, out of scripts' reach.
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__index", strs)
		mt.RawSetString("__metatable", lua.LFalse)
	}
	// Reading a missing global is an error, as in Redis 7.0.
	missing := L.NewTable()
	missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToStringMeta(L.Get(2)).String())
		return 0
	}))
	L.SetMetatable(vm.globals, missing)
	g := view(vm.globals)
	vm.globals.RawSetString("_G", g)
	L.G.Global, L.Env = g, g
	return vm
}

// reset readies the state for the next script.
func (vm *scriptVM) reset() {
	L := vm.L
	L.RemoveContext()
	L.SetTop(0)
	vm.cur = nil
	vm.threads = 0
	for _, v := range vm.views {
		for k, _ := v.Next(lua.LNil); k != lua.LNil; k, _ = v.Next(lua.LNil) {
			v.RawSet(k, lua.LNil)
		}
	}
}

// scriptCall is what the redis table's functions need of the running
// script.
type scriptCall struct {
	s        *Server
	cl       *client
	sr       *scriptRun
	run      func([][]byte) []byte
	readOnly bool
	oom      bool // over maxmemory when the script started (maxmemory.go)
	resp3    bool // redis.setresp(3): the commands reply in RESP3
}

// redisTable builds the redis table; its functions act for vm.cur.
func redisTable(L *lua.LState, vm *scriptVM, log *slog.Logger) *lua.LTable {
	r := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return vm.cur.call(L, false) },
		"pcall": func(L *lua.LState) int { return vm.cur.call(L, true) },
		"error_reply": func(L *lua.LState) int {
			msg := L.CheckString(1)
			if !strings.HasPrefix(msg, "-") {
				msg = "-" + msg
			}
			L.Push(errorTable(L, msg))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			t := L.NewTable()
			t.RawSetString("ok", lua.LString(L.CheckString(1)))
			L.Push(t)
			return 1
		},
		"sha1hex": func(L *lua.LState) int {
			sum := sha1.Sum([]byte(L.CheckString(1)))
			L.Push(lua.LString(hex.EncodeToString(sum[:])))
			return 1
		},
		"log": func(L *lua.LState) int {
			if L.GetTop() < 2 {
				L.RaiseError("redis.log() requires two arguments or more.")
			}
			var msg []string
			for i := 2; i <= L.GetTop(); i++ {
				msg = append(msg, L.ToStringMeta(L.Get(i)).String())
			}
			log.Info("script", "msg", strings.Join(msg, " "))
			return 0
		},
		"setresp": func(L *lua.LState) int {
			if vm.cur == nil { // a library loading: it runs no commands
				L.RaiseError("Script attempted to access nonexistent global variable 'setresp'")
			}
			return vm.cur.setResp(L)
		},
		"set_repl":           func(L *lua.LState) int { return 0 }, // effects are always what replicates
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      func(L *lua.LState) int { return vm.cur.aclCheckCmd(L) },
	}
	for name, fn := range fns {
		r.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]lua.LValue{
		"REDIS_VERSION": lua.LString(Version), "REDIS_VERSION_NUM": lua.LNumber(versionNum()),
		"LOG_DEBUG": lua.LNumber(0), "LOG_VERBOSE": lua.LNumber(1), "LOG_NOTICE": lua.LNumber(2), "LOG_WARNING": lua.LNumber(3),
		"REPL_NONE": lua.LNumber(0), "REPL_AOF": lua.LNumber(1), "REPL_SLAVE": lua.LNumber(2), "REPL_REPLICA": lua.LNumber(2), "REPL_ALL": lua.LNumber(3),
	} {
		r.RawSetString(name, v)
	}
	return r
}

// versionNum is Version as Redis's REDIS_VERSION_NUM: 0x00MMmmpp.
// isScript reports whether c runs Lua: its commands come after it (MONITOR)
// and may fill lists (blocked clients).
func isScript(c *command) bool {
	switch c.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// runsInCommitter reports whether c does its work through engine.Atomic:
// in a transaction, EXEC runs it in its own instead.
func runsInCommitter(c *command) bool { return isScript(c) || c.Name == "function" }

func versionNum() int {
	n := 0
	for _, part := range strings.SplitN(Version, ".", 3) {
		v, _ := strconv.Atoi(part)
		n = n<<8 | v
	}
	return n
}

// call is redis.call (raise errors) and redis.pcall (return them).
func (sc *scriptCall) call(L *lua.LState, protected bool) int {
	fail := func(msg string) int {
		t := errorTable(L, msg)
		if protected {
			L.Push(t)
			return 1
		}
		sc.raise(L, t)
		return 0
	}
	n := L.GetTop()
	if n == 0 {
		return fail("Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := range args {
		switch v := L.Get(i + 1).(type) {
		case lua.LString:
			args[i] = []byte(v)
		case lua.LNumber:
			args[i] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		default:
			return fail("Lua redis lib command arguments must be strings or integers")
		}
	}
	reply := sc.command(args)
	v, _ := luaFromReply(L, reply)
	if t, ok := v.(*lua.LTable); ok && len(reply) > 0 && reply[0] == '-' && !protected {
		sc.raise(L, t)
		return 0
	}
	L.Push(v)
	return 1
}

// setResp is redis.setresp(2|3): the protocol of the replies the
// script's commands give it (RESP2 until it asks), and with it how the
// script's booleans reply (see luaReply).
func (sc *scriptCall) setResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		sc.raise(L, errorTable(L, "redis.setresp() requires one argument."))
		return 0
	}
	n := int(L.ToNumber(1)) // as Redis's int of lua_tonumber: "3" and 3.5 are 3
	if n != 2 && n != 3 {
		sc.raise(L, errorTable(L, "RESP version must be 2 or 3."))
		return 0
	}
	sc.resp3 = n == 3
	sc.cl.sess.ScriptRESP3 = sc.resp3 // the engine's commands (engine.Session)
	return 0
}

// raise raises an error table, marked with the line of the script that
// called redis.call, as Redis's error handler marks it.
func (sc *scriptCall) raise(L *lua.LState, t *lua.LTable) {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("l", dbg, lua.LNil); err == nil && dbg.CurrentLine > 0 {
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		}
	}
	L.Error(t, 1)
}

// command runs one command for a script and returns its RESP reply:
// Redis's checks of a script's command (existence, arity, the commands
// a script may not run, read-only scripts, ACL, the replica's and
// min-replicas' rules), then the command itself in the script's
// transaction.
func (sc *scriptCall) command(args [][]byte) []byte {
	s, cl := sc.s, sc.cl
	c := s.lookup(args[0])
	switch {
	case c == nil:
		return errReply("ERR Unknown Redis command called from script")
	case !c.ArityOK(len(args)):
		return errReply("ERR Wrong number of args calling Redis command from script")
	case !scriptMayRun(c):
		return errReply("ERR This Redis command is not allowed from script")
	case sc.readOnly && c.Flags&engine.Write != 0:
		return errReply("ERR Write commands are not allowed from read-only scripts.")
	}
	sub, unknown := subcommand(c, args)
	if unknown {
		return errReply("ERR Unknown Redis command called from script")
	} else if sub != nil {
		if msg := sub.arityError(len(args)); msg != "" {
			return errReply(msg)
		}
	}
	if d, _ := s.aclCheck(cl, c, args); d != aclAllowed {
		s.logACLDenial(cl, d, string(args[0]), "")
		return errReply(scriptACLText(d))
	}
	if msg := s.repl.check(cl, c, args); msg != "" {
		return errReply(msg)
	}
	if sc.oom && !sc.sr.wrote.Load() && denyOOM(c, sub) {
		return errReply(errOOM)
	}
	if c.Flags&engine.Write != 0 {
		sc.sr.wrote.Store(true)
	}
	cl.inScript = true
	defer func() { cl.inScript = false }()
	if c.eng != nil {
		if s.renamed {
			args[0] = []byte(c.Name)
		}
		s.trackScriptRead(cl, c, args)
		return sc.run(args)
	}
	// A server command replies in the script's protocol, not the
	// client's.
	saved, resp3 := cl.out, cl.sess.RESP3
	cl.out, cl.sess.RESP3 = nil, sc.resp3
	s.runCounted(c, cl, args)
	reply := cl.out
	cl.out, cl.sess.RESP3 = saved, resp3
	return reply
}

// scriptMayRun reports whether a script may call c: the engine's
// commands that do not block, and the server's that neither block nor
// touch the connection, the role or the server's life (Redis's noscript
// commands are the rest).
func scriptMayRun(c *command) bool {
	if c.eng != nil {
		return c.run == nil // blocking rows have both
	}
	switch c.Name {
	case "ping", "echo", "time", "info", "lastsave", "publish", "pubsub", "command", "memory", "slowlog":
		return true
	}
	return false
}

func errReply(msg string) []byte { return appendError(nil, msg) }

// scriptACLText is Redis's error for a script's command that the user
// may not run.
func scriptACLText(d aclDenial) string {
	switch d {
	case aclDeniedKey:
		return "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case aclDeniedChannel:
		return "ERR The user executing the script can't publish to the channel mentioned in the command"
	}
	return "ERR The user executing the script can't run this command or subcommand"
}

// aclCheckCmd is redis.acl_check_cmd: whether the user may run a command.
func (sc *scriptCall) aclCheckCmd(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := range args {
		args[i] = []byte(L.ToStringMeta(L.Get(i + 1)).String())
	}
	c := sc.s.lookup(args[0])
	if c == nil {
		L.RaiseError("Invalid command passed to redis.acl_check_cmd()")
	}
	d, _ := sc.s.aclCheck(sc.cl, c, args)
	L.Push(lua.LBool(d == aclAllowed))
	return 1
}

// errorTable is Redis's error table for an error reply ("-CODE text":
// the '-' is dropped, and a reply of one word gets the ERR code) or a
// message (which gets the ERR code).
func errorTable(L *lua.LState, msg string) *lua.LTable {
	msg = strings.TrimRight(msg, "\r\n")
	if rest, ok := strings.CutPrefix(msg, "-"); ok && strings.Contains(rest, " ") {
		msg = rest
	} else {
		msg = "ERR " + rest
	}
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

// scriptFailure is the reply to a script that raised an error or was
// killed, as Redis gives it: the error with the script's SHA and the line
// it was raised at. A message (Lua's own errors, error("...")) gets the
// ERR code and keeps its "user_script:N:" prefix, which gives the line;
// an error table (redis.call's, error({err=...})) gives its err field,
// and redis.call marks its line.
//
// The line is not found with an error handler at PCall: gopher-lua
// crashes the process when a handler runs with the value stack full.
func scriptFailure(err error, name, source string, killed bool) []byte {
	msg, line := "ERR "+err.Error(), "1"
	if apiErr, ok := err.(*lua.ApiError); ok {
		switch obj := apiErr.Object.(type) {
		case *lua.LTable:
			if m, ok := obj.RawGetString("err").(lua.LString); ok {
				msg = string(m)
			}
			if n, ok := obj.RawGetString("line").(lua.LNumber); ok {
				line = strconv.Itoa(int(n))
			}
		case nil:
		default:
			msg = "ERR " + obj.String()
			if m := scriptLine.FindStringSubmatch(msg); m != nil {
				line = m[1]
			}
		}
	}
	if killed {
		msg = "ERR Script killed by user with SCRIPT KILL..."
	}
	return errReply(msg + " script: " + name + ", on @" + source + ":" + line + ".")
}

var scriptLine = regexp.MustCompile(`^ERR user_(?:script|function):(\d+):`)

// maxReplyDepth bounds the nesting of a script's reply: a table that
// holds itself would otherwise recurse forever.
const maxReplyDepth = 1000

// luaReply converts a script's value to the RESP reply for its client,
// by Redis's rules: a number is an integer (truncated), a string a bulk
// string, nil a null; a table with an err field is an error, one with an
// ok field a status, one with a double, big_number, verbatim_string, map
// or set field (in that order) that RESP3 type (its RESP2 form to a
// RESP2 client), any other the array of its elements from 1 to the first
// nil. A boolean follows the script's protocol (redis.setresp): RESP2's
// true is 1 and false a null, RESP3's are booleans.
type luaReply struct {
	resp3       bool // the client's protocol (HELLO 3)
	scriptRESP3 bool // the script's (redis.setresp(3))
}

func (r luaReply) append(out []byte, v lua.LValue, depth int) []byte {
	switch v := v.(type) {
	case lua.LString:
		return redcon.AppendBulkString(out, string(v))
	case lua.LNumber:
		return redcon.AppendInt(out, luaInteger(float64(v)))
	case lua.LBool:
		switch {
		case r.scriptRESP3:
			return engine.AppendBool(out, r.resp3, bool(v))
		case bool(v):
			return redcon.AppendInt(out, 1)
		}
	case *lua.LTable:
		if depth >= maxReplyDepth {
			return appendError(out, "ERR reached lua stack limit")
		}
		return r.appendTable(out, v, depth)
	}
	return engine.AppendNull(out, r.resp3)
}

func (r luaReply) appendTable(out []byte, t *lua.LTable, depth int) []byte {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		return appendError(out, string(e))
	}
	if st, ok := t.RawGetString("ok").(lua.LString); ok {
		return redcon.AppendString(out, string(st))
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		return appendLuaDouble(out, r.resp3, float64(d))
	}
	if n, ok := t.RawGetString("big_number").(lua.LString); ok {
		num := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(n))
		if !r.resp3 {
			return redcon.AppendBulkString(out, num)
		}
		return append(append(append(out, '('), num...), '\r', '\n')
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		format, ok1 := vt.RawGetString("format").(lua.LString)
		text, ok2 := vt.RawGetString("string").(lua.LString)
		if ok1 && ok2 {
			return appendVerbatim(out, r.resp3, string(format), string(text))
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		n := 0
		m.ForEach(func(lua.LValue, lua.LValue) { n++ })
		out = engine.AppendMap(out, r.resp3, n)
		m.ForEach(func(k, v lua.LValue) {
			out = r.append(out, k, depth+1)
			out = r.append(out, v, depth+1)
		})
		return out
	}
	if set, ok := t.RawGetString("set").(*lua.LTable); ok {
		n := 0
		set.ForEach(func(lua.LValue, lua.LValue) { n++ })
		out = engine.AppendSet(out, r.resp3, n)
		set.ForEach(func(k, _ lua.LValue) { out = r.append(out, k, depth+1) })
		return out
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	out = redcon.AppendArray(out, n)
	for i := 1; i <= n; i++ {
		out = r.append(out, t.RawGetInt(i), depth+1)
	}
	return out
}

// appendLuaDouble appends a script's double as Redis's addReplyDouble
// does: "%.17g" (NaN as C prints it, with its sign), inf and -inf.
func appendLuaDouble(out []byte, resp3 bool, f float64) []byte {
	if f == f {
		return engine.AppendDouble(out, resp3, f)
	}
	nan := "nan"
	if math.Signbit(f) {
		nan = "-nan"
	}
	if !resp3 {
		return redcon.AppendBulkString(out, nan)
	}
	return append(append(append(out, ','), nan...), '\r', '\n')
}

// appendVerbatim appends a verbatim string of a format as Redis's
// addReplyVerbatim does: its first three bytes, padded with spaces
// (RESP2: a bulk string of the text).
func appendVerbatim(out []byte, resp3 bool, format, text string) []byte {
	if !resp3 {
		return redcon.AppendBulkString(out, text)
	}
	f := []byte("   ")
	copy(f, format)
	out = append(out, '=')
	out = strconv.AppendInt(out, int64(len(text)+4), 10)
	out = append(out, '\r', '\n')
	out = append(append(append(out, f...), ':'), text...)
	return append(out, '\r', '\n')
}

// luaInteger converts a Lua number as Redis's C cast does on amd64:
// toward zero, and the minimum int64 for what does not fit.
func luaInteger(f float64) int64 {
	if f != f || f >= 1<<63 || f < -(1<<63) {
		return -1 << 63
	}
	return int64(f)
}

// luaFromReply converts one RESP reply to Lua, by Redis's rules: an
// integer is a number, a bulk string a string, a null false, an array a
// table, a status a table with an ok field and an error one with an err
// field. RESP3's types (a script that called redis.setresp(3) gets them)
// convert as Redis converts them: a map is a table with a map field (of
// the map's keys and values), a set one with a set field (of its
// elements, each true), a double one with a double field, a big number
// one with a big_number field, a verbatim string one with a
// verbatim_string field (of its format and string); a boolean is a Lua
// boolean and RESP3's null nil; an attribute is skipped. It returns the
// rest of b.
func luaFromReply(L *lua.LState, b []byte) (lua.LValue, []byte) {
	if len(b) < 3 {
		return lua.LFalse, nil
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return lua.LFalse, nil
	}
	line, rest := string(b[1:i]), b[i+2:]
	field := func(name string, v lua.LValue) *lua.LTable {
		t := L.CreateTable(0, 1)
		t.RawSetString(name, v)
		return t
	}
	switch b[0] {
	case '+':
		return field("ok", lua.LString(line)), rest
	case '-':
		return errorTable(L, "-"+line), rest
	case ':':
		n, _ := strconv.ParseInt(line, 10, 64)
		return lua.LNumber(n), rest
	case '$', '=':
		n, _ := strconv.Atoi(line)
		if n < 0 || n+2 > len(rest) {
			return lua.LFalse, rest
		}
		text, rest := rest[:n], rest[n+2:]
		if b[0] == '$' {
			return lua.LString(text), rest
		}
		format, text, _ := bytes.Cut(text, []byte(":"))
		v := L.CreateTable(0, 2)
		v.RawSetString("format", lua.LString(format))
		v.RawSetString("string", lua.LString(text))
		return field("verbatim_string", v), rest
	case '*', '~', '%', '|':
		n, _ := strconv.Atoi(line)
		if n < 0 {
			return lua.LFalse, rest
		}
		switch b[0] {
		case '~':
			set := L.CreateTable(0, n)
			for range n {
				var v lua.LValue
				v, rest = luaFromReply(L, rest)
				if v != lua.LNil {
					set.RawSet(v, lua.LTrue)
				}
			}
			return field("set", set), rest
		case '%', '|':
			m := L.CreateTable(0, n)
			for range n {
				var k, v lua.LValue
				k, rest = luaFromReply(L, rest)
				v, rest = luaFromReply(L, rest)
				if k != lua.LNil {
					m.RawSet(k, v)
				}
			}
			if b[0] == '|' { // an attribute: the reply follows it
				return luaFromReply(L, rest)
			}
			return field("map", m), rest
		}
		t := L.CreateTable(n, 0)
		for j := range n {
			var v lua.LValue
			v, rest = luaFromReply(L, rest)
			if v != lua.LNil { // RESP3's null leaves a hole, as in Redis
				t.RawSetInt(j+1, v)
			}
		}
		return t, rest
	case ',':
		f, _ := strconv.ParseFloat(line, 64)
		return field("double", lua.LNumber(f)), rest
	case '(':
		return field("big_number", lua.LString(line)), rest
	case '#':
		return lua.LBool(line == "t"), rest
	case '_':
		return lua.LNil, rest
	}
	return lua.LFalse, nil
}

// SCRIPT LOAD|EXISTS|FLUSH|KILL|DEBUG|HELP
func cmdScript(s *Server, cl *client, args [][]byte) {
	switch strings.ToLower(string(args[1])) {
	case "load":
		sha, _, err := s.scripts.load(args[2])
		if err != nil {
			cl.err("ERR Error compiling script (new function): " + err.Error())
			return
		}
		cl.bulkString(sha)
	case "exists":
		cl.array(len(args) - 2)
		for _, sha := range args[2:] {
			if s.scripts.get(string(sha)) != nil {
				cl.integer(1)
			} else {
				cl.integer(0)
			}
		}
	case "flush":
		if len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") || len(args) > 3 {
			cl.err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			return
		}
		s.scripts.flush()
		cl.ok()
	case "kill":
		sr := s.scripts.running.Load()
		switch {
		case sr == nil:
			cl.err("NOTBUSY No scripts in execution right now.")
		case sr.wrote.Load():
			cl.err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
		default:
			sr.killed.Store(true)
			sr.cancel()
			cl.ok()
		}
	case "debug":
		if strings.EqualFold(string(args[2]), "no") {
			cl.ok()
			return
		}
		cl.err("ERR walrus has no Lua debugger; SCRIPT DEBUG accepts only NO")
	case "help":
		cl.statusLines([]string{
			"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"DEBUG (YES|SYNC|NO)",
			"    Set the debug mode for subsequent scripts executed.",
			"EXISTS <sha1> [<sha1> ...]",
			"    Return information about the existence of the scripts in the script cache.",
			"FLUSH [ASYNC|SYNC]",
			"    Flush the Lua scripts cache. Very dangerous on replicas.",
			"    When called without the optional mode argument, the behavior is determined by the",
			"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
			"    * ASYNC: Asynchronously flush the scripts cache.",
			"    * SYNC: Synchronously flush the scripts cache.",
			"KILL",
			"    Kill the currently executing Lua script.",
			"LOAD <script>",
			"    Load a script into the scripts cache without executing it.",
			"HELP",
			"    Prints this help.",
		})
	}
}

// busyError is the reply to a command that comes while a script has run
// longer than busy-reply-threshold, as Redis gives it; "" otherwise or
// for the commands Redis still serves then.
func (s *Server) busyError(c *command, args [][]byte) string {
	sr := s.scripts.running.Load()
	if sr == nil {
		return ""
	}
	limit := time.Duration(configInt(s.cfg, "busy-reply-threshold")) * time.Millisecond
	if limit <= 0 || time.Since(sr.start) < limit {
		return ""
	}
	switch c.Name {
	case "shutdown", "auth", "hello", "quit":
		return ""
	case "script":
		if len(args) > 1 && strings.EqualFold(string(args[1]), "kill") {
			return ""
		}
	}
	return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
}

// maxScriptThreads bounds the coroutines one script may create.
const maxScriptThreads = 1000

// maxScriptString bounds string.rep's result as proto-max-bulk-len's
// default bounds a string value: a script asking for more gets an error,
// where an allocation that size would end the process.
const maxScriptString = 512 << 20

// stringRep is string.rep with its result bounded by maxScriptString.
func stringRep(L *lua.LState) int {
	s, n := L.CheckString(1), L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if int64(len(s))*int64(n) > maxScriptString || int64(n) > maxScriptString {
		L.RaiseError("resulting string too large")
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// newScriptState returns a Lua state with Redis's libraries and none of
// the functions Redis's sandbox leaves out. Its value stack is bounded
// (a script that needs more gets "registry overflow") and grows in large
// steps: gopher-lua copies it at each, and small steps up to a large
// bound took it minutes to fail an unpack of a million values.
func newScriptState() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistrySize: 1024, RegistryMaxSize: 1 << 18, RegistryGrowStep: 8192})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range []string{"dofile", "loadfile", "print", "module", "require", "getfenv", "setfenv", "newproxy", "_printregs"} {
		L.SetGlobal(name, lua.LNil)
	}
	// Lua 5.1's math.huge is infinity (HUGE_VAL); gopher-lua's is the
	// largest finite number, which 1/0 is not equal to.
	L.GetGlobal(lua.MathLibName).(*lua.LTable).RawSetString("huge", lua.LNumber(math.Inf(1)))
	// tonumber reads a string as Lua 5.1 does, with C's strtod in base
	// 10 and strtoul in another: gopher-lua's gives nil for "1e2", "inf"
	// or "0x1p4", and nil for a base out of range.
	L.SetGlobal("tonumber", L.NewFunction(lua51ToNumber))
	return L
}

// lua51ToNumber is Lua 5.1's tonumber(e [, base]).
func lua51ToNumber(L *lua.LState) int {
	base := 10
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		base = L.CheckInt(2)
	}
	if base == 10 {
		if n, ok := luaToNumber(L.CheckAny(1)); ok {
			L.Push(n)
		} else {
			L.Push(lua.LNil)
		}
		return 1
	}
	s := L.CheckString(1)
	if base < 2 || base > 36 {
		L.ArgError(2, "base out of range")
	}
	if n, ok := strtoul(s, base); ok {
		L.Push(lua.LNumber(n))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// strtoul reads s as tonumber with a base does: C's strtoul (leading
// blanks, a sign, 0x in base 16; a minus wraps, an overflow is the
// largest value), then only blanks.
func strtoul(s string, base int) (float64, bool) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg, t = t[0] == '-', t[1:]
	}
	if base == 16 && len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
	}
	if t == "" || t[0] == '+' || t[0] == '-' || strings.ContainsRune(t, '_') {
		return 0, false
	}
	n, err := strconv.ParseUint(t, base, 64)
	if errors.Is(err, strconv.ErrRange) {
		n, err = math.MaxUint64, nil
	}
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return float64(n), true
}

// strtod reads s as Lua 5.1 reads a numeral from a string (luaO_str2d):
// C's strtod, leading and trailing blanks allowed, then a hexadecimal
// integer where strtod stops at an x. Like strtod it takes "inf", "nan"
// and hexadecimal floats, and an overflow is infinity.
func strtod(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsRune(t, '_') {
		return 0, false // Go's parser takes digit separators; C's does not
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return f, true
	}
	// A hexadecimal integer, which C's strtod reads and Go's needs a p
	// exponent for.
	h, neg := t, t[0] == '-'
	if neg || h[0] == '+' {
		h = h[1:]
	}
	if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		if n, err := strconv.ParseUint(h[2:], 16, 64); err == nil {
			if neg {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	return 0, false
}
