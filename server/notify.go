package server

import (
	"strconv"

	"github.com/walrus-kv/walrus/engine"
)

// Keyspace notifications: the engine notes the events of committed
// writes (engine/notify.go) and the server publishes them, as Redis does,
// on __keyspace@<db>__:<key> (the event as message) and
// __keyevent@<db>__:<event> (the key as message), to this node's
// subscribers only: replicas publish the events of what they apply.

// keyspaceClassBits maps notify-keyspace-events letters to the engine's
// classes.
var keyspaceClassBits = map[byte]uint32{
	'K': engine.NotifyKeyspace, 'E': engine.NotifyKeyevent, 'g': engine.NotifyGeneric,
	'$': engine.NotifyString, 'l': engine.NotifyList, 's': engine.NotifySet,
	'h': engine.NotifyHash, 'z': engine.NotifyZSet, 'x': engine.NotifyExpired,
	'e': engine.NotifyEvicted, 't': engine.NotifyStream, 'm': engine.NotifyKeyMiss,
	'd': engine.NotifyModule, 'n': engine.NotifyNew,
	'A': engine.NotifyGeneric | engine.NotifyString | engine.NotifyList | engine.NotifySet |
		engine.NotifyHash | engine.NotifyZSet | engine.NotifyExpired | engine.NotifyEvicted |
		engine.NotifyStream | engine.NotifyModule,
}

// keyspaceMask is the engine's classes for notify-keyspace-events letters
// (already checked by the config).
func keyspaceMask(letters string) uint32 {
	var m uint32
	for i := 0; i < len(letters); i++ {
		m |= keyspaceClassBits[letters[i]]
	}
	return m
}

// setNotify applies notify-keyspace-events.
func (s *Server) setNotify(letters string) {
	m := keyspaceMask(letters)
	s.notifyMask.Store(m)
	s.eng.SetNotify(m)
}

// publishNotes publishes the events of a committed group of writes; the
// committer calls it.
func (s *Server) publishNotes(notes []engine.Note) {
	m := s.notifyMask.Load()
	if s.trk.on.Load() {
		s.invalidate(notes)
	}
	if m&(engine.NotifyKeyspace|engine.NotifyKeyevent) == 0 {
		return
	}
	for _, n := range notes {
		if n.Class&m == 0 {
			continue // noted for client tracking only
		}
		db := strconv.Itoa(n.DB)
		if m&engine.NotifyKeyspace != 0 {
			s.Publish(append([]byte("__keyspace@"+db+"__:"), n.Key...), []byte(n.Event))
		}
		if m&engine.NotifyKeyevent != 0 {
			s.Publish([]byte("__keyevent@"+db+"__:"+n.Event), n.Key)
		}
	}
}
