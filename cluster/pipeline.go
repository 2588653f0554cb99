package cluster

import "github.com/hashicorp/raft"

// AppendEntriesPipeline always answers that pipelining is not supported, so
// that raft replicates to each follower with one AppendEntries at a time
// (its plain replication loop) and never runs pipelined replication.
//
// Why: raft's pipelined replication can deadlock. NetworkTransport sizes
// both channels of a pipeline at MaxRPCsInFlight-2, which is 0 at the
// default of 2. When a follower answers Success=false or a higher term (a
// restarted follower, a leadership transfer), pipelineDecode returns and
// nobody reads the pipeline's responses any more; if the send loop then
// picks a ready trigger before the closed finish channel (a new write
// came in, or the commit timeout fired), its next send parks on the
// in-progress channel while the decoder parks on the done channel. The
// pipeline is closed by a defer of the very goroutine that is parked, so
// nothing frees them: that follower gets heartbeats but no more entries,
// and raft's Shutdown, which waits for every replication goroutine before
// it closes the transport, never returns
// (https://github.com/hashicorp/raft/issues/612). Closing the transport
// first does not help: neither parked goroutine waits on it.
//
// The price: one AppendEntries in flight per follower instead of several,
// which under sustained load means batches wait for the previous one's
// answer (loopback: well under a millisecond); a switch, a single entry,
// costs the same either way.
func (serialHeartbeats) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}
