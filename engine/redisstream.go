package engine

import (
	"bytes"
	"strconv"
)

// AppendRedisEntry appends a log entry as Redis's replication stream
// carries it, for a Redis replica (or `redis-cli --replica`) of this
// node.
//
// An entry's commands are Redis's own but for two hints an applying
// walrus reads, which Redis would refuse: SET's trailing `PREV <state>`
// and XGROUP CREATECONSUMER's `SEEN <ms>`; both are dropped.
//
// An entry starts in database 0 and SELECTs any other, wrapping a lone
// command outside database 0 in MULTI/EXEC with its SELECT; Redis's
// stream SELECTs only when the database changes and wraps nothing that
// is one command. So *db carries the database the stream has selected
// from one entry to the next (-1 at its start, as Redis's stream begins
// with a SELECT), a SELECT goes out only when a command needs another,
// and a MULTI/EXEC around one command is left out.
func AppendRedisEntry(dst, entry []byte, db *int) ([]byte, error) {
	var cmds [][][]byte
	commands := 0
	err := forEachCommand(entry, func(args [][]byte) error {
		if !isCommand(args, "SELECT") && !isCommand(args, "MULTI") && !isCommand(args, "EXEC") {
			commands++
		}
		cmds = append(cmds, args)
		return nil
	})
	if err != nil {
		return dst, err
	}
	entryDB := 0
	for _, args := range cmds {
		switch {
		case isCommand(args, "SELECT") && len(args) == 2:
			n, err := strconv.Atoi(string(args[1]))
			if err != nil {
				return dst, err
			}
			entryDB = n
			continue
		case isCommand(args, "MULTI"), isCommand(args, "EXEC"):
			if commands > 1 {
				dst = encodeCommand(dst, args...)
			}
			continue
		case isCommand(args, "SET") && len(args) >= 5 && bytes.EqualFold(args[len(args)-2], []byte("PREV")):
			args = args[:len(args)-2]
		case isCommand(args, "XGROUP") && len(args) == 7 &&
			bytes.EqualFold(args[1], []byte("CREATECONSUMER")) && bytes.EqualFold(args[5], []byte("SEEN")):
			args = args[:5]
		}
		if entryDB != *db {
			dst = encodeCommand(dst, bs("SELECT"), strconv.AppendInt(nil, int64(entryDB), 10))
			*db = entryDB
		}
		dst = encodeCommand(dst, args...)
	}
	return dst, nil
}

// isCommand says whether args name the command name (upper case).
func isCommand(args [][]byte, name string) bool {
	return bytes.EqualFold(args[0], []byte(name))
}
