package wal

import "context"

// signal wakes every waiter at once. Its owner guards it with its own mutex.
// The channel is made only when someone waits, so an append with no waiter
// allocates nothing.
type signal struct {
	ch chan struct{}
}

// wait returns a channel closed by the next broadcast.
func (s *signal) wait() <-chan struct{} {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// waitState is one look at a log for Wait, taken under the log's mutex.
type waitState struct {
	last   uint64
	gen    uint64 // bumped by Reset
	closed bool
	wake   <-chan struct{} // closed on the next change; only set if asked
}

// closedChan is the channel changed returns when there is no need to wait.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// changed implements Log.Changed over look.
func changed(after uint64, look func(arm bool) waitState) <-chan struct{} {
	st := look(true)
	if st.closed || st.last > after {
		return closedChan
	}
	return st.wake
}

// waitFor implements Log.Wait over look, which reports the state and, when
// arm is true, a channel to sleep on.
func waitFor(ctx context.Context, after uint64, look func(arm bool) waitState) (uint64, error) {
	st := look(false)
	gen := st.gen
	for {
		switch {
		case st.closed:
			return st.last, ErrClosed
		case st.last > after || st.gen != gen:
			return st.last, nil
		}
		st = look(true)
		if st.closed || st.last > after || st.gen != gen {
			continue
		}
		select {
		case <-st.wake:
		case <-ctx.Done():
			return st.last, ctx.Err()
		}
		st = look(false)
	}
}
