package server

import (
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// COMMAND [COUNT | INFO name... | DOCS name... | LIST | GETKEYS cmd... | HELP]
func cmdCommand(s *Server, cl *client, args [][]byte) {
	rows := s.rows()
	sub := ""
	if len(args) > 1 {
		sub = strings.ToLower(string(args[1]))
	}
	pick := func() []*command {
		if len(args) <= 2 {
			return rows
		}
		var out []*command
		for _, a := range args[2:] {
			out = append(out, s.lookup(a)) // nil: unknown, replied as nil
		}
		return out
	}
	switch sub {
	case "":
		s.commandInfo(cl, rows)
	case "count":
		cl.integer(int64(len(rows)))
	case "info":
		s.commandInfo(cl, pick())
	case "list":
		cl.array(len(rows))
		for _, r := range rows {
			cl.bulkString(r.Name)
		}
	case "docs":
		var docs []*command
		for _, r := range pick() {
			if r != nil {
				docs = append(docs, r)
			}
		}
		cl.mapLen(len(docs))
		for _, r := range docs {
			cl.bulkString(r.Name)
			cl.mapLen(3)
			cl.bulkString("summary")
			cl.bulkString(r.Summary)
			cl.bulkString("since")
			cl.bulkString("1.0.0")
			cl.bulkString("group")
			cl.bulkString(r.Group)
		}
	case "help":
		cl.statusLines([]string{
			"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"(no subcommand)",
			"    Return details about all Redis commands.",
			"COUNT",
			"    Return the total number of commands in this Redis server.",
			"LIST",
			"    Return a list of all commands in this Redis server.",
			"INFO [<command-name> ...]",
			"    Return details about multiple Redis commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"DOCS [<command-name> ...]",
			"    Return documentation details about multiple Redis commands.",
			"    If no command names are given, documentation details for all",
			"    commands are returned.",
			"GETKEYS <full-command>",
			"    Return the keys from a full Redis command.",
			"HELP",
			"    Prints this help.",
		})
	case "getkeys":
		if len(args) < 4 {
			cl.err("ERR wrong number of arguments for 'command|getkeys' command")
			return
		}
		keys, msg := s.commandKeys(args[2:])
		if msg != "" {
			cl.err(msg)
			return
		}
		cl.array(len(keys))
		for _, k := range keys {
			cl.bulk(k)
		}
	default:
		cl.err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try COMMAND HELP.")
	}
}

// commandKeys is COMMAND GETKEYS: the keys cmd would touch, or Redis's
// error text.
func (s *Server) commandKeys(cmd [][]byte) ([][]byte, string) {
	c := s.lookup(cmd[0])
	if c == nil {
		return nil, "ERR Invalid command specified"
	}
	if _, unknown := subcommand(c, cmd); unknown {
		return nil, "ERR Invalid command specified"
	}
	if c.FirstKey <= 0 && c.NumKeysAt <= 0 && c.KeysAfter == "" {
		return nil, "ERR The command has no key arguments"
	}
	if !c.ArityOK(len(cmd)) {
		return nil, "ERR Invalid number of arguments specified for command"
	}
	if c.NumKeysAt > 0 {
		// A numkeys past the arguments names no keys, as in Redis.
		if n, err := strconv.Atoi(string(cmd[c.NumKeysAt])); err != nil || n > len(cmd)-c.NumKeysAt-1 {
			return nil, ""
		}
	}
	return c.Keys(cmd), ""
}

// rows returns the table's rows sorted by name, once each.
func (s *Server) rows() []*command {
	seen := map[*command]bool{}
	var out []*command
	for _, c := range s.table {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) commandInfo(cl *client, rows []*command) {
	cl.array(len(rows))
	for _, r := range rows {
		if r == nil {
			cl.null() // Redis 7.0: $-1 in RESP2
			continue
		}
		// RESP3: the flags and categories are sets, and so are the tips,
		// key specs and subcommands, which walrus has none of (Redis 7.0
		// replies an empty set for each of them then).
		cl.array(10)
		cl.bulkString(r.Name)
		cl.integer(int64(r.Arity))
		flags := r.Flags.Names()
		if r.NumKeysAt > 0 || r.KeysAfter != "" || r.KeysOf != nil {
			flags = append(flags, "movablekeys")
		}
		cl.setLen(len(flags))
		for _, f := range flags {
			cl.status(f)
		}
		cl.integer(int64(r.FirstKey))
		cl.integer(int64(r.LastKey))
		cl.integer(int64(r.Step))
		cl.setLen(bits.OnesCount32(uint32(r.cats))) // ACL categories (acl.go)
		for i, name := range aclCategoryNames {
			if r.cats&(1<<i) != 0 {
				cl.status("@" + name)
			}
		}
		cl.setLen(0) // tips
		cl.setLen(0) // key specs
		cl.setLen(0) // subcommands
	}
}
