package api

// mergePatch applies a JSON merge patch (RFC 7396) to target, both decoded
// JSON values (map[string]any for objects). A patch that is not an object
// replaces the target; in an object patch a null removes the member, an
// object merges recursively and anything else replaces it. target is not
// modified.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, _ := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}
