package peer

import "errors"

// ErrDiverged is what a node's readiness error matches (errors.Is) once
// the node found that its applied log differs from the cluster's: it then
// stops answering for good, until it is rebuilt.
var ErrDiverged = errors.New("diverged")
