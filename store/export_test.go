package store

import "slices"

// KubeKeySegments returns the key segments the table maps, "services/specs"
// style for nested ones, sorted.
func KubeKeySegments() []string {
	var out []string
	for s := range kubeKeys {
		out = append(out, s)
	}
	for s, n := range nestedKeys {
		for s2 := range n {
			out = append(out, s+"/"+s2)
		}
	}
	slices.Sort(out)
	return out
}
