package server

// Publish/subscribe is not served yet: see the data-model work. These
// hooks keep the dispatcher and INFO in shape for it.

func pubsubCommands(row rowFunc) []*command {
	return nil
}

func (s *Server) unsubscribeAll(cl *client) {}
func (s *Server) pubsubChannels() int       { return 0 }
func (s *Server) pubsubPatterns() int       { return 0 }
