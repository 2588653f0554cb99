package cluster

// Changed returns a channel closed when this node next applies a change
// to its state (a command that changed it, or a snapshot restored). Take
// it before reading State, so that a change in between is not missed.
func (n *Node) Changed() <-chan struct{} { return n.fsm.changes.Next() }
