package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atrest-dev/atrest/envelope"
)

var (
	// ErrOutsidePrefix is returned by ResourceOf for a key outside
	// kube-apiserver's etcd prefix, and by Prefixes for a key prefix that
	// is not inside it.
	ErrOutsidePrefix = errors.New("store: outside kube-apiserver's etcd prefix")
	// ErrUnknownResource is matched by the *UnknownResourceError ResourceOf
	// returns for a key it cannot map to a resource.
	ErrUnknownResource = errors.New("store: unknown resource")
)

// UnknownResourceError is returned by ResourceOf for a key whose first
// segment after the prefix is neither where kube-apiserver stores a
// built-in resource nor an API group (which has a dot). Such a key belongs
// to a resource newer than this table, to one a release removed, or to
// something other than kube-apiserver; atrest does not guess which rule of
// a configuration applies to it.
type UnknownResourceError struct {
	Segment string // the first segment, or the first two for services/ and ranges/
}

func (e *UnknownResourceError) Error() string {
	return fmt.Sprintf("store: unknown resource: no built-in resource is stored under %q", e.Segment)
}

func (e *UnknownResourceError) Is(target error) bool { return target == ErrUnknownResource }

// Resource is the resource kube-apiserver stores under an etcd key.
type Resource struct {
	// Name is the resource as an EncryptionConfiguration names it:
	// "secrets", "deployments.apps", "widgets.example.com".
	Name string
	// Unencrypted is set for data kube-apiserver writes without its
	// encryption transformers, whatever the configuration says: the service
	// IP and node port allocation bitmaps (/ranges/...) and the apiserver
	// endpoint leases (/masterleases/...). Its validation refuses these
	// names in a configuration.
	Unencrypted bool
}

// kubeKeys maps the first segment of a built-in resource's etcd key, after
// kube-apiserver's --etcd-prefix, to the resource as an
// EncryptionConfiguration names it: the resource, and its API group unless
// core. kube-apiserver keys most resources by their resource name alone,
// whatever their group; a few keep historical names (minions, controllers,
// ingress). TestKubeKeys checks the table against where kube-apiserver
// v1.37.2's storage tests expect every built-in resource
// (testdata/kube-etcd-paths.txt).
var kubeKeys = map[string]string{
	// core
	"configmaps":             "configmaps",
	"events":                 "events", // events.k8s.io events are stored as core events
	"limitranges":            "limitranges",
	"namespaces":             "namespaces",
	"minions":                "nodes",
	"persistentvolumeclaims": "persistentvolumeclaims",
	"persistentvolumes":      "persistentvolumes",
	"pods":                   "pods",
	"podtemplates":           "podtemplates",
	"controllers":            "replicationcontrollers",
	"resourcequotas":         "resourcequotas",
	"secrets":                "secrets",
	"serviceaccounts":        "serviceaccounts",
	// "services" is nested: see nestedKeys.
	"masterleases": "apiServerIPInfo",
	// admissionregistration.k8s.io
	"mutatingadmissionpolicies":         "mutatingadmissionpolicies.admissionregistration.k8s.io",
	"mutatingadmissionpolicybindings":   "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
	"mutatingwebhookconfigurations":     "mutatingwebhookconfigurations.admissionregistration.k8s.io",
	"validatingadmissionpolicies":       "validatingadmissionpolicies.admissionregistration.k8s.io",
	"validatingadmissionpolicybindings": "validatingadmissionpolicybindings.admissionregistration.k8s.io",
	"validatingwebhookconfigurations":   "validatingwebhookconfigurations.admissionregistration.k8s.io",
	// apps
	"controllerrevisions": "controllerrevisions.apps",
	"daemonsets":          "daemonsets.apps",
	"deployments":         "deployments.apps",
	"replicasets":         "replicasets.apps",
	"statefulsets":        "statefulsets.apps",
	// autoscaling, batch, policy
	"horizontalpodautoscalers": "horizontalpodautoscalers.autoscaling",
	"cronjobs":                 "cronjobs.batch",
	"jobs":                     "jobs.batch",
	"poddisruptionbudgets":     "poddisruptionbudgets.policy",
	// certificates.k8s.io
	"certificatesigningrequests": "certificatesigningrequests.certificates.k8s.io",
	"clustertrustbundles":        "clustertrustbundles.certificates.k8s.io",
	"podcertificaterequests":     "podcertificaterequests.certificates.k8s.io",
	// coordination.k8s.io, discovery.k8s.io
	"leases":          "leases.coordination.k8s.io",
	"leasecandidates": "leasecandidates.coordination.k8s.io",
	"endpointslices":  "endpointslices.discovery.k8s.io",
	// flowcontrol.apiserver.k8s.io, internal.apiserver.k8s.io
	"flowschemas":                 "flowschemas.flowcontrol.apiserver.k8s.io",
	"prioritylevelconfigurations": "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
	"storageversions":             "storageversions.internal.apiserver.k8s.io",
	// lifecycle.k8s.io
	"evictionrequests": "evictionrequests.lifecycle.k8s.io",
	"evictions":        "evictions.lifecycle.k8s.io",
	// networking.k8s.io
	"ingressclasses":  "ingressclasses.networking.k8s.io",
	"ingress":         "ingresses.networking.k8s.io",
	"ipaddresses":     "ipaddresses.networking.k8s.io",
	"networkpolicies": "networkpolicies.networking.k8s.io",
	"servicecidrs":    "servicecidrs.networking.k8s.io",
	// node.k8s.io, rbac.authorization.k8s.io
	"runtimeclasses":      "runtimeclasses.node.k8s.io",
	"clusterrolebindings": "clusterrolebindings.rbac.authorization.k8s.io",
	"clusterroles":        "clusterroles.rbac.authorization.k8s.io",
	"rolebindings":        "rolebindings.rbac.authorization.k8s.io",
	"roles":               "roles.rbac.authorization.k8s.io",
	// resource.k8s.io
	"deviceclasses":              "deviceclasses.resource.k8s.io",
	"devicetaintrules":           "devicetaintrules.resource.k8s.io",
	"resourceclaims":             "resourceclaims.resource.k8s.io",
	"resourceclaimtemplates":     "resourceclaimtemplates.resource.k8s.io",
	"resourcepoolstatusrequests": "resourcepoolstatusrequests.resource.k8s.io",
	"resourceslices":             "resourceslices.resource.k8s.io",
	// scheduling.k8s.io
	"compositepodgroups": "compositepodgroups.scheduling.k8s.io",
	"podgroups":          "podgroups.scheduling.k8s.io",
	"priorityclasses":    "priorityclasses.scheduling.k8s.io",
	"workloads":          "workloads.scheduling.k8s.io",
	// storage.k8s.io, storagemigration.k8s.io
	"csidrivers":               "csidrivers.storage.k8s.io",
	"csinodes":                 "csinodes.storage.k8s.io",
	"csistoragecapacities":     "csistoragecapacities.storage.k8s.io",
	"storageclasses":           "storageclasses.storage.k8s.io",
	"volumeattachments":        "volumeattachments.storage.k8s.io",
	"volumeattributesclasses":  "volumeattributesclasses.storage.k8s.io",
	"storageversionmigrations": "storageversionmigrations.storagemigration.k8s.io",
}

// nestedKeys are first segments under which the second one names the
// resource.
var nestedKeys = map[string]map[string]string{
	"services": {"specs": "services", "endpoints": "endpoints"},
	"ranges": {
		"serviceips":          "serviceipallocations",
		"secondaryserviceips": "serviceipallocations",
		"servicenodeports":    "servicenodeportallocations",
	},
}

// unencrypted lists what kube-apiserver stores without its encryption
// transformers (its raw storage, not the REST storage).
var unencrypted = map[string]bool{
	"serviceipallocations":       true,
	"servicenodeportallocations": true,
	"apiServerIPInfo":            true,
}

// DefaultEtcdPrefix is kube-apiserver's default --etcd-prefix.
const DefaultEtcdPrefix = "/registry"

// Prefixes applies the defaults of scan's and rotate's options and checks
// them: etcdPrefix "" means DefaultEtcdPrefix, and prefix "" means
// etcdPrefix + "/". A prefix outside etcdPrefix + "/" is refused
// (ErrOutsidePrefix): no key under it could be mapped to a resource.
func Prefixes(etcdPrefix, prefix string) (string, string, error) {
	if etcdPrefix == "" {
		etcdPrefix = DefaultEtcdPrefix
	}
	root := strings.TrimSuffix(etcdPrefix, "/") + "/"
	if prefix == "" {
		prefix = root
	}
	if !strings.HasPrefix(prefix, root) {
		return etcdPrefix, prefix, fmt.Errorf("%w: key prefix %q is not under %q", ErrOutsidePrefix, prefix, root)
	}
	return etcdPrefix, prefix, nil
}

// ResourceOf returns the resource kube-apiserver stores under etcdKey,
// given its --etcd-prefix (normally "/registry"). Built-in resources live at
// <prefix>/<segment>/..., the segment mapped by a table checked against
// kube-apiserver's own storage paths; resources of groups with a dot that
// the table does not hold (custom resources, apiservices,
// customresourcedefinitions) at <prefix>/<group>/<resource>/.... A key
// outside the prefix gives ErrOutsidePrefix, and one under a segment the
// table does not know an *UnknownResourceError: never a guess.
func ResourceOf(etcdKey, etcdPrefix string) (Resource, error) {
	p := strings.TrimSuffix(etcdPrefix, "/") + "/"
	rest, ok := strings.CutPrefix(etcdKey, p)
	if !ok {
		return Resource{}, fmt.Errorf("%w: %q is not under %q", ErrOutsidePrefix, etcdKey, p)
	}
	first, rest, _ := strings.Cut(rest, "/")
	second, _, _ := strings.Cut(rest, "/")
	if nested, ok := nestedKeys[first]; ok {
		if r, ok := nested[second]; ok {
			return Resource{Name: r, Unencrypted: unencrypted[r]}, nil
		}
		return Resource{}, &UnknownResourceError{Segment: first + "/" + second}
	}
	if r, ok := kubeKeys[first]; ok {
		return Resource{Name: r, Unencrypted: unencrypted[r]}, nil
	}
	if strings.Contains(first, ".") && second != "" {
		return Resource{Name: second + "." + first}, nil
	}
	return Resource{}, &UnknownResourceError{Segment: first}
}

// ChainFor returns the chain kube-apiserver configured with cfg reads and
// writes the values of res with: IdentityChain for data it stores without
// transformers, and otherwise cfg.For(res.Name).
func ChainFor(cfg *envelope.Config, res Resource) (*envelope.Chain, error) {
	if res.Unencrypted {
		return envelope.IdentityChain(), nil
	}
	return cfg.For(res.Name)
}

// builtIn is every resource name the table resolves keys to.
var builtIn = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range kubeKeys {
		m[r] = true
	}
	for _, n := range nestedKeys {
		for _, r := range n {
			m[r] = true
		}
	}
	for _, r := range []string{"apiservices.apiregistration.k8s.io", "customresourcedefinitions.apiextensions.k8s.io"} {
		m[r] = true
	}
	return m
}()

// BuiltIn reports whether name ("secrets", "deployments.apps") is a
// built-in resource kube-apiserver stores in etcd.
func BuiltIn(name string) bool { return builtIn[name] }

// BuiltInGroup reports whether group is the API group of a built-in
// resource ("" for core).
func BuiltInGroup(group string) bool {
	for r := range builtIn {
		if _, g, _ := strings.Cut(r, "."); g == group {
			return true
		}
	}
	return false
}

// Suggest returns the built-in resource a misspelt name most likely means
// ("Secrets" and "secret" → "secrets", "deployments" → "deployments.apps",
// "deployment.apps" → "deployments.apps"), or "" if none.
func Suggest(name string) string {
	lower := strings.ToLower(name)
	res, group, _ := strings.Cut(lower, ".")
	var cands []string
	for _, r := range []string{res, res + "s", res + "es", strings.TrimSuffix(res, "s")} {
		if r == "" {
			continue
		}
		if group != "" {
			cands = append(cands, r+"."+group)
			continue
		}
		cands = append(cands, r)
		for b := range builtIn {
			if br, _, _ := strings.Cut(b, "."); br == r && strings.Contains(b, ".") {
				cands = append(cands, b)
			}
		}
	}
	var found []string
	for _, c := range cands {
		if builtIn[c] && c != name && !slices.Contains(found, c) {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return ""
	}
	slices.Sort(found)
	return found[0]
}
