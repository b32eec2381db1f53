package server

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// MIGRATE moves keys to another server, walrus or Redis, as Redis does
// it: each key's DUMP payload and TTL go to the target in a RESTORE, and
// a key the target took is deleted here unless COPY was given. The target
// is dialled for each MIGRATE (Redis keeps the connection ten seconds).
//
// Redis blocks every client while it waits for the target; here other
// clients go on, so a key may change between its DUMP and its deletion.
// The deletion runs in the committer and deletes a key only if its value
// and expiry are still those sent; a key that changed stays here and
// MIGRATE answers an error naming it, so no write is lost.

func migrateRow(row func(string, int, engine.Flags, string, string, func(*Server, *client, [][]byte)) *command) *command {
	c := row("migrate", -6, engine.Write|engine.NoMulti, "generic", "Atomically transfer a key from a Redis instance to another one.", cmdMigrate)
	c.FirstKey, c.LastKey, c.Step = 3, 3, 1
	c.KeysOf = migrateKeys
	return c
}

// migrateKeys finds MIGRATE's keys as Redis does: the key argument, or,
// when it is empty and KEYS is given with keys after it, those (AUTH's
// and AUTH2's arguments are skipped); none for a non-empty key with KEYS,
// a call MIGRATE refuses.
func migrateKeys(args [][]byte) [][]byte {
	if len(args) < 6 {
		return nil
	}
	for i := 6; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "auth":
			i++
		case "auth2":
			i += 2
		case "keys":
			switch {
			case len(args[3]) != 0:
				return nil // refused: KEYS needs "" for key
			case i+1 < len(args):
				return args[i+1:]
			}
			return args[3:4]
		}
	}
	return args[3:4]
}

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password | AUTH2 username password] [KEYS key ...]
func cmdMigrate(s *Server, cl *client, args [][]byte) {
	var copyKeys, replace bool
	var user, pass string
	keys := args[3:4]
	for i := 6; i < len(args); i++ {
		more := len(args) - 1 - i
		switch strings.ToLower(string(args[i])) {
		case "copy":
			copyKeys = true
		case "replace":
			replace = true
		case "auth":
			if more < 1 {
				cl.err("ERR syntax error")
				return
			}
			i++
			pass = string(args[i])
		case "auth2":
			if more < 2 {
				cl.err("ERR syntax error")
				return
			}
			user, pass = string(args[i+1]), string(args[i+2])
			i += 2
		case "keys":
			if len(args[3]) != 0 {
				cl.err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return
			}
			keys = args[i+1:]
			i = len(args)
		default:
			cl.err("ERR syntax error")
			return
		}
	}
	timeout, err1 := strconv.ParseInt(string(args[5]), 10, 64)
	db, err2 := strconv.ParseInt(string(args[4]), 10, 64)
	if err1 != nil || err2 != nil {
		cl.err("ERR value is not an integer or out of range")
		return
	}
	if timeout <= 0 {
		timeout = 1000
	}

	// Each key's payload and expiry, read together; keys gone are skipped.
	var items []migrateItem
	for _, k := range keys {
		it, ok, msg := s.migrateRead(cl, k)
		if msg != "" {
			cl.err(msg)
			return
		}
		if ok {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		cl.status("NOKEY")
		return
	}

	wait := time.Duration(timeout) * time.Millisecond
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(string(args[1]), string(args[2])), wait)
	if err != nil {
		cl.err("IOERR error or timeout connecting to the client")
		return
	}
	defer conn.Close()
	var out []byte
	if pass != "" {
		if user != "" {
			out = appendCommand(out, "AUTH", user, pass)
		} else {
			out = appendCommand(out, "AUTH", pass)
		}
	}
	out = appendCommand(out, "SELECT", strconv.FormatInt(db, 10))
	for _, it := range items {
		var ttl int64
		if it.expireAt > 0 {
			ttl = max(it.expireAt-time.Now().UnixMilli(), 1)
		}
		cmd := []string{"RESTORE", string(it.key), strconv.FormatInt(ttl, 10), string(it.payload)}
		if replace {
			cmd = append(cmd, "REPLACE")
		}
		out = appendCommand(out, cmd...)
	}
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write(out); err != nil {
		cl.err("IOERR error or timeout writing to target instance")
		return
	}
	rd := bufio.NewReader(conn)
	line := func() (string, bool) {
		conn.SetDeadline(time.Now().Add(wait))
		l, err := rd.ReadString('\n')
		return strings.TrimRight(l, "\r\n"), err == nil && l != ""
	}
	var targetErr string
	fail := func(reply string) {
		if targetErr == "" {
			targetErr = "ERR Target instance replied with error: " + reply[1:]
		}
	}
	authFailed := false
	if pass != "" {
		reply, ok := line()
		if !ok {
			cl.err("IOERR error or timeout reading to target instance")
			return
		}
		if strings.HasPrefix(reply, "-") {
			fail(reply)
			authFailed = true
		}
	}
	selectReply, ok := line()
	if !ok {
		cl.err("IOERR error or timeout reading to target instance")
		return
	}
	if strings.HasPrefix(selectReply, "-") {
		fail(selectReply)
	}
	var moved []migrateItem
	for _, it := range items {
		reply, ok := line()
		if !ok {
			s.migrateDelete(cl, moved) // what the target took is there
			cl.err("IOERR error or timeout reading to target instance")
			return
		}
		switch {
		case strings.HasPrefix(reply, "-"):
			fail(reply)
		case authFailed || strings.HasPrefix(selectReply, "-"):
		case !copyKeys:
			moved = append(moved, it)
		}
	}
	msg := s.migrateDelete(cl, moved)
	if targetErr != "" {
		msg = targetErr
	}
	if msg != "" {
		cl.err(msg)
		return
	}
	cl.ok()
}

// migrateItem is a key as MIGRATE sent it.
type migrateItem struct {
	key, payload []byte
	expireAt     int64 // Unix ms, or -1 for none
}

// migrateRead reads a key's payload and expiry in one engine request;
// ok is false when the key is not there.
func (s *Server) migrateRead(cl *client, key []byte) (it migrateItem, ok bool, errMsg string) {
	replies := s.eng.Exec(cl.sess, [][][]byte{{[]byte("DUMP"), key}, {[]byte("PEXPIRETIME"), key}}, nil)
	return parseMigrateRead(key, replies)
}

func parseMigrateRead(key, replies []byte) (migrateItem, bool, string) {
	n, dump := redcon.ReadNextRESP(replies)
	_, exp := redcon.ReadNextRESP(replies[n:])
	if dump.Type == redcon.Error {
		return migrateItem{}, false, string(dump.Data)
	}
	at, _ := strconv.ParseInt(string(exp.Data), 10, 64)
	if dump.Type != redcon.Bulk || dump.Data == nil || at == -2 {
		return migrateItem{}, false, ""
	}
	return migrateItem{key: key, payload: dump.Data, expireAt: at}, true, ""
}

// migrateDelete deletes the keys a target took, atomically, each only if
// it still holds what was sent; it returns the error to reply when one
// changed meanwhile.
func (s *Server) migrateDelete(cl *client, items []migrateItem) string {
	if len(items) == 0 {
		return ""
	}
	var changed []string
	fail := s.atomic(cl, func(run func([][]byte) []byte) {
		for _, it := range items {
			dump := append([]byte(nil), run([][]byte{[]byte("DUMP"), it.key})...)
			now, ok, _ := parseMigrateRead(it.key, append(dump, run([][]byte{[]byte("PEXPIRETIME"), it.key})...))
			if !ok || string(now.payload) != string(it.payload) || now.expireAt != it.expireAt {
				changed = append(changed, string(it.key))
				continue
			}
			run([][]byte{[]byte("DEL"), it.key})
		}
	})
	if fail != "" {
		return fail
	}
	if len(changed) > 0 {
		return "ERR MIGRATE copied keys that changed here meanwhile and kept them here: " + strings.Join(changed, " ")
	}
	return ""
}

// appendCommand writes a command as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = redcon.AppendBulkString(b, a)
	}
	return b
}
