package server

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
	lua "github.com/yuin/gopher-lua"
)

// Functions, as in Redis 7.0: FUNCTION LOAD stores a library of Lua
// functions, FCALL and FCALL_RO call them. The engine keeps each
// library's code (engine/function.go), so libraries are logged,
// replicated, checkpointed and recovered with the data; the server
// compiles them into the scripts' Lua state and keeps a registry of
// their functions, which it reloads from the engine whenever the
// engine's FunctionsVersion moves (a load, a delete, a flush, a replica
// applying its master's, a checkpoint installed). Everything here runs in
// the committer, through the same engine.Atomic as a script, so a
// library is loaded and a function runs atomically with the data.

// functionLib is a loaded library.
type functionLib struct {
	name, code string
	fns        []*luaFunction
}

// luaFunction is a registered function.
type luaFunction struct {
	name, desc string
	flags      []string
	noWrites   bool
	allowOOM   bool
	fn         *lua.LFunction
	lib        *functionLib
}

// functionFlags are the flags register_function accepts (Redis 7.0's).
var functionFlags = map[string]bool{"no-writes": true, "allow-oom": true, "allow-stale": true, "no-cluster": true, "allow-cross-slot-keys": true}

const functionSource = "user_function"

func functionCommands(row rowFunc) []*command {
	rows := []*command{
		row("function", -2, engine.Stale, "scripting", "A container for function commands", cmdFunction),
		row("fcall", -3, engine.Stale, "scripting", "Invoke a function", cmdFcall),
		row("fcall_ro", -3, engine.Stale, "scripting", "Invoke a read-only function", cmdFcall),
	}
	for _, r := range rows[1:] {
		r.NumKeysAt = 2
	}
	return rows
}

// atomic runs fn in the committer: through engine.Atomic, or directly when
// cl runs inside EXEC's transaction already. It returns the error reply
// to give instead of what fn made, if any.
func (s *Server) atomic(cl *client, fn func(run func([][]byte) []byte)) string {
	if cl.txnRun != nil {
		fn(cl.txnRun)
		return ""
	}
	return s.eng.Atomic(cl.sess, fn)
}

// ensureFunctions brings the registry up to the engine's libraries;
// vm.mu is held, in the committer.
func (s *Server) ensureFunctions(vm *scriptVM, run func([][]byte) []byte) {
	version := s.eng.FunctionsVersion()
	if vm.fnVersion == version {
		return
	}
	vm.libs, vm.fns = map[string]*functionLib{}, map[string]*luaFunction{}
	reply, _ := luaFromReply(vm.L, run([][]byte{[]byte("FUNCTION"), []byte("LIBRARIES")}))
	if t, ok := reply.(*lua.LTable); ok {
		for i := 1; i+1 <= t.Len(); i += 2 {
			code := t.RawGetInt(i + 1).String()
			lib, err := vm.loadLibrary(code)
			if err != nil {
				s.log.Error("function library does not load", "library", t.RawGetInt(i).String(), "err", err)
				continue
			}
			vm.add(lib)
		}
	}
	vm.fnVersion = version
}

func (vm *scriptVM) add(lib *functionLib) {
	vm.libs[lib.name] = lib
	for _, f := range lib.fns {
		vm.fns[f.name] = f
	}
}

// loadLibrary runs a library's code with redis.register_function and
// returns what it registered; vm.mu is held.
func (vm *scriptVM) loadLibrary(code string) (*functionLib, error) {
	first, body, _ := strings.Cut(code, "\n")
	if !strings.HasPrefix(first, "#!") {
		return nil, errors.New("ERR Missing library metadata")
	}
	name := engine.LibraryName(code)
	if !strings.HasPrefix(first, "#!lua ") || !validFunctionName(name) {
		return nil, errors.New("ERR Invalid library metadata")
	}
	proto, err := compileLua([]byte("\n"+body), functionSource) // keep the lines' numbers
	if err != nil {
		return nil, errors.New("ERR Error compiling function: " + err.Error())
	}
	lib := &functionLib{name: name, code: code}
	L := vm.L
	redisT := vm.redis
	call, pcall := redisT.RawGetString("call"), redisT.RawGetString("pcall")
	redisT.RawSetString("call", lua.LNil) // no commands while a library loads, as in Redis
	redisT.RawSetString("pcall", lua.LNil)
	redisT.RawSetString("register_function", L.NewFunction(func(L *lua.LState) int { return registerFunction(L, lib) }))
	defer func() {
		redisT.RawSetString("call", call)
		redisT.RawSetString("pcall", pcall)
		redisT.RawSetString("register_function", lua.LNil)
	}()
	defer vm.reset()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, 0, nil); err != nil {
		msg := err.Error()
		if apiErr, ok := err.(*lua.ApiError); ok && apiErr.Object != nil {
			msg = apiErr.Object.String()
			if !strings.HasPrefix(msg, "ERR ") {
				msg = "ERR " + msg
			}
		}
		if ctx.Err() != nil {
			msg = "ERR FUNCTION LOAD timeout"
		}
		return nil, errors.New("ERR Error registering functions: " + msg)
	}
	if len(lib.fns) == 0 {
		return nil, errors.New("ERR No functions registered")
	}
	return lib, nil
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=..., callback=..., flags={...},
// description=...}.
func registerFunction(L *lua.LState, lib *functionLib) int {
	f := &luaFunction{lib: lib}
	if t, ok := L.Get(1).(*lua.LTable); ok && L.GetTop() == 1 {
		f.name = lua.LVAsString(t.RawGetString("function_name"))
		f.fn, _ = t.RawGetString("callback").(*lua.LFunction)
		f.desc = lua.LVAsString(t.RawGetString("description"))
		if flags, ok := t.RawGetString("flags").(*lua.LTable); ok {
			for i := 1; i <= flags.Len(); i++ {
				flag := lua.LVAsString(flags.RawGetInt(i))
				if !functionFlags[flag] {
					L.Error(lua.LString("ERR unknown flag given"), 0)
				}
				f.flags = append(f.flags, flag)
				f.noWrites = f.noWrites || flag == "no-writes"
				f.allowOOM = f.allowOOM || flag == "allow-oom"
			}
		}
	} else {
		f.name = L.CheckString(1)
		f.fn = L.CheckFunction(2)
	}
	if !validFunctionName(f.name) {
		L.Error(lua.LString("ERR Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"), 0)
	}
	if f.fn == nil {
		L.Error(lua.LString("ERR callback must be a function"), 0)
	}
	for _, g := range lib.fns {
		if g.name == f.name {
			L.Error(lua.LString("ERR Function already exists in the library"), 0)
		}
	}
	lib.fns = append(lib.fns, f)
	return 0
}

func validFunctionName(s string) bool {
	if s == "" {
		return false
	}
	for _, ch := range s {
		if !(ch == '_' || '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z') {
			return false
		}
	}
	return true
}

// FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|KILL|DUMP|RESTORE|HELP
func cmdFunction(s *Server, cl *client, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "load", "delete", "flush", "restore":
		// They write: a replica refuses them, min-replicas-to-write applies.
		if msg := s.repl.check(cl, &command{Spec: engine.Spec{Flags: engine.Write}}, args); msg != "" {
			cl.err(msg)
			return
		}
	}
	var reply []byte
	var fail string
	switch sub {
	case "load":
		replace := len(args) == 4 && strings.EqualFold(string(args[2]), "replace")
		if len(args) != 3 && !replace {
			cl.err("ERR Unknown option given: " + string(args[2]))
			return
		}
		code := args[len(args)-1]
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			lib, err := vm.loadLibrary(string(code))
			if err != nil {
				reply = errReply(err.Error())
				return
			}
			if vm.libs[lib.name] != nil && !replace {
				reply = errReply("ERR Library '" + lib.name + "' already exists")
				return
			}
			for _, f := range lib.fns {
				if other := vm.fns[f.name]; other != nil && other.lib.name != lib.name {
					reply = errReply("ERR Function " + f.name + " already exists")
					return
				}
			}
			reply = append([]byte(nil), run([][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte("REPLACE"), code})...)
			vm.fnVersion = 0 // reload after the commit
		})
	case "delete":
		if len(args) != 3 {
			cl.err("ERR wrong number of arguments for 'function|delete' command")
			return
		}
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			if vm.libs[string(args[2])] == nil {
				reply = errReply("ERR Library not found")
				return
			}
			run([][]byte{[]byte("FUNCTION"), []byte("DELETE"), args[2]})
			vm.fnVersion = 0
			reply = []byte("+OK\r\n")
		})
	case "flush":
		if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") {
			cl.err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			reply = append([]byte(nil), run([][]byte{[]byte("FUNCTION"), []byte("FLUSH")})...)
			vm.fnVersion = 0
		})
	case "list":
		pattern, withCode := "", false
		for i := 2; i < len(args); i++ {
			switch strings.ToLower(string(args[i])) {
			case "withcode":
				withCode = true
			case "libraryname":
				if i+1 >= len(args) {
					cl.err("ERR library name argument was not given")
					return
				}
				i++
				pattern = string(args[i])
			default:
				cl.err("ERR Unknown argument " + string(args[i]))
				return
			}
		}
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			reply = listFunctions(vm, pattern, withCode, cl.sess.RESP3)
		})
	case "stats":
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			resp3 := cl.sess.RESP3 // RESP3: maps
			out := engine.AppendMap(nil, resp3, 2)
			out = redcon.AppendBulkString(out, "running_script")
			out = engine.AppendNull(out, resp3) // nothing else runs while this does
			out = redcon.AppendBulkString(out, "engines")
			out = engine.AppendMap(out, resp3, 1)
			out = redcon.AppendBulkString(out, "LUA")
			out = engine.AppendMap(out, resp3, 2)
			out = redcon.AppendBulkString(out, "libraries_count")
			out = redcon.AppendInt(out, int64(len(vm.libs)))
			out = redcon.AppendBulkString(out, "functions_count")
			reply = redcon.AppendInt(out, int64(len(vm.fns)))
		})
	case "kill":
		cmdScript(s, cl, [][]byte{[]byte("SCRIPT"), []byte("KILL")})
		return
	case "dump":
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			names := make([]string, 0, len(vm.libs))
			for name := range vm.libs {
				names = append(names, name)
			}
			sort.Strings(names)
			codes := make([][]byte, len(names))
			for i, name := range names {
				codes[i] = []byte(vm.libs[name].code)
			}
			reply = redcon.AppendBulk(nil, engine.FunctionsPayload(codes))
		})
	case "restore":
		if len(args) > 4 {
			cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try FUNCTION HELP.")
			return
		}
		policy := "append"
		if len(args) == 4 {
			policy = strings.ToLower(string(args[3]))
			if policy != "append" && policy != "replace" && policy != "flush" {
				cl.err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
				return
			}
		}
		codes, err := engine.ParseFunctionsPayload(args[2])
		if err != nil {
			cl.err(err.Error())
			return
		}
		fail = s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
			if msg := vm.checkRestore(codes, policy); msg != "" {
				reply = errReply(msg)
				return
			}
			if policy == "flush" {
				run([][]byte{[]byte("FUNCTION"), []byte("FLUSH")})
			}
			for _, code := range codes {
				run([][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte("REPLACE"), code})
			}
			vm.fnVersion = 0
			reply = []byte("+OK\r\n")
		})
	case "help":
		cl.statusLines(functionHelp)
		return
	}
	if fail != "" {
		cl.err(fail)
		return
	}
	cl.out = append(cl.out, reply...)
}

// checkRestore compiles the libraries of a FUNCTION RESTORE payload and
// checks them against each other and, unless the policy is flush, against
// the libraries loaded, as Redis does: it returns the error to reply, or
// "" when the restore may go ahead.
func (vm *scriptVM) checkRestore(codes [][]byte, policy string) string {
	libs := map[string]bool{}
	fns := map[string]bool{}
	var restored []*functionLib
	for _, code := range codes {
		lib, err := vm.loadLibrary(string(code))
		if err != nil {
			return err.Error()
		}
		if libs[lib.name] {
			return "ERR Library '" + lib.name + "' already exists"
		}
		libs[lib.name] = true
		for _, f := range lib.fns {
			if fns[f.name] {
				return "ERR Function " + f.name + " already exists"
			}
			fns[f.name] = true
		}
		restored = append(restored, lib)
	}
	if policy == "flush" {
		return ""
	}
	for _, lib := range restored {
		if vm.libs[lib.name] != nil && policy == "append" {
			return "ERR Library " + lib.name + " already exists"
		}
	}
	for _, lib := range restored {
		for _, f := range lib.fns {
			// A function of a library the restore replaces goes with it.
			if other := vm.fns[f.name]; other != nil && !libs[other.lib.name] {
				return "ERR Function " + f.name + " already exists"
			}
		}
	}
	return ""
}

// withFunctions runs fn in the committer with the VM locked and the
// registry current.
func (s *Server) withFunctions(cl *client, fn func(vm *scriptVM, run func([][]byte) []byte)) string {
	return s.atomic(cl, func(run func([][]byte) []byte) {
		vm := s.scripts.vm(s.log)
		vm.mu.Lock()
		defer vm.mu.Unlock()
		s.ensureFunctions(vm, run)
		fn(vm, run)
	})
}

// listFunctions is FUNCTION LIST's reply, libraries by name: each
// library and function a map, a function's flags a set (RESP3).
func listFunctions(vm *scriptVM, pattern string, withCode, resp3 bool) []byte {
	var libs []*functionLib
	for _, lib := range vm.libs {
		if pattern == "" || engine.GlobMatch(pattern, lib.name) {
			libs = append(libs, lib)
		}
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].name < libs[j].name })
	out := redcon.AppendArray(nil, len(libs))
	for _, lib := range libs {
		n := 3
		if withCode {
			n = 4
		}
		out = engine.AppendMap(out, resp3, n)
		out = redcon.AppendBulkString(out, "library_name")
		out = redcon.AppendBulkString(out, lib.name)
		out = redcon.AppendBulkString(out, "engine")
		out = redcon.AppendBulkString(out, "LUA")
		out = redcon.AppendBulkString(out, "functions")
		out = redcon.AppendArray(out, len(lib.fns))
		for _, f := range lib.fns {
			out = engine.AppendMap(out, resp3, 3)
			out = redcon.AppendBulkString(out, "name")
			out = redcon.AppendBulkString(out, f.name)
			out = redcon.AppendBulkString(out, "description")
			if f.desc == "" {
				out = engine.AppendNull(out, resp3)
			} else {
				out = redcon.AppendBulkString(out, f.desc)
			}
			out = redcon.AppendBulkString(out, "flags")
			out = engine.AppendSet(out, resp3, len(f.flags))
			for _, flag := range f.flags {
				out = redcon.AppendString(out, flag) // status strings, as Redis replies them
			}
		}
		if withCode {
			out = redcon.AppendBulkString(out, "library_code")
			out = redcon.AppendBulkString(out, lib.code)
		}
	}
	return out
}

// FCALL function numkeys [key ...] [arg ...], and FCALL_RO.
func cmdFcall(s *Server, cl *client, args [][]byte) {
	keys, argv, ok := splitKeys(cl, args)
	if !ok {
		return
	}
	name := string(args[1])
	ro := strings.EqualFold(string(args[0]), "fcall_ro")
	var reply []byte
	fail := s.withFunctions(cl, func(vm *scriptVM, run func([][]byte) []byte) {
		f := vm.fns[name]
		switch {
		case f == nil:
			reply = errReply("ERR Function not found")
			return
		case !f.noWrites && !f.allowOOM && s.mem.over.Load():
			reply = errReply(errOOM)
			return
		case ro && !f.noWrites:
			reply = errReply("ERR Can not execute a script with write flag using *_ro command.")
			return
		case !f.noWrites && s.repl.link.Load() != nil:
			reply = errReply("READONLY You can't write against a read only replica.")
			return
		}
		reply = s.runLua(vm, cl, run, f.noWrites || ro, false, name, functionSource, func(L *lua.LState) int {
			L.Push(f.fn)
			L.Push(luaStrings(L, keys))
			L.Push(luaStrings(L, argv))
			return 2
		})
	})
	if fail != "" {
		cl.err(fail)
		return
	}
	cl.out = append(cl.out, reply...)
}

// functionHelp is Redis 7.0's reply to FUNCTION HELP.
var functionHelp = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
}
