package apitest

// Changed implements api.ChangeNotifier: the channel closes when a
// proposal is next applied.
func (b *Backend) Changed() <-chan struct{} { return b.changes.Next() }
