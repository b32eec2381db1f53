package server

import (
	"strconv"
)

// DEBUG POPULATE count [prefix [size]]: count string keys prefix:N (key:N
// by default) holding value:N, cut or padded with zero bytes to size when
// size is given; keys that exist are left alone, as in Redis. The keys
// are written as SET ... NX through the engine, a thousand to a group
// commit, so they are logged and reach replicas like any write (Redis
// adds them to its dataset directly, replicating nothing).
func (s *Server) debugPopulate(cl *client, args [][]byte) {
	const errRange = "ERR value is out of range, must be positive"
	count, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil || count < 0 {
		cl.err(errRange)
		return
	}
	prefix := "key"
	if len(args) >= 4 {
		prefix = string(args[3])
	}
	size := int64(0)
	if len(args) == 5 {
		if size, err = strconv.ParseInt(string(args[4]), 10, 64); err != nil || size < 0 {
			cl.err(errRange)
			return
		}
		if size > s.lim.maxBulk.Load() {
			cl.err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
			return
		}
	}
	const batch = 1000
	cmds := make([][][]byte, 0, batch)
	var out []byte
	for j := int64(0); j < count; j++ {
		n := strconv.FormatInt(j, 10)
		key := prefix + ":" + n
		if len(key) > 127 { // Redis prints the key into 128 bytes
			key = key[:127]
		}
		val := []byte("value:" + n)
		if size > 0 {
			v := make([]byte, size)
			copy(v, val)
			val = v
		}
		cmds = append(cmds, [][]byte{[]byte("SET"), []byte(key), val, []byte("NX")})
		if len(cmds) == batch || j == count-1 {
			out = s.eng.Exec(cl.sess, cmds, out[:0])
			cmds = cmds[:0]
		}
	}
	cl.ok()
}
