package cluster

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// pipelineSpy is an in-memory transport that counts the pipelines raft
// asks it for.
type pipelineSpy struct {
	*raft.InmemTransport
	asked int
}

func (s *pipelineSpy) AppendEntriesPipeline(id raft.ServerID, a raft.ServerAddress) (raft.AppendPipeline, error) {
	s.asked++
	return s.InmemTransport.AppendEntriesPipeline(id, a)
}

// The transport raft gets never hands out a pipeline, and never asks the
// real transport for one.
func TestTransportRefusesPipelining(t *testing.T) {
	_, tr := raft.NewInmemTransport("")
	spy := &pipelineSpy{InmemTransport: tr}
	p, err := wrapTransport(spy).AppendEntriesPipeline("n2", "addr")
	if !errors.Is(err, raft.ErrPipelineReplicationNotSupported) || p != nil {
		t.Fatalf("AppendEntriesPipeline = %v, %v; want nil, ErrPipelineReplicationNotSupported", p, err)
	}
	if spy.asked != 0 {
		t.Fatalf("the wrapped transport was asked for %d pipelines", spy.asked)
	}
}
