package store

import "strings"

// kubeKeys maps the first segment of a kube-apiserver etcd key (after the
// etcd prefix, /registry) to the resource name an EncryptionConfiguration
// uses for it, where the two differ or the resource is outside the core
// group. kube-apiserver keys most resources by their resource name alone,
// whatever their group; a few keep historical names.
var kubeKeys = map[string]string{
	// core group, historical key names
	"minions":     "nodes",
	"controllers": "replicationcontrollers",
	"services":    "services", // /services/specs/...; /services/endpoints/... is handled below
	// apps
	"deployments":         "deployments.apps",
	"replicasets":         "replicasets.apps",
	"daemonsets":          "daemonsets.apps",
	"statefulsets":        "statefulsets.apps",
	"controllerrevisions": "controllerrevisions.apps",
	// autoscaling, batch, policy
	"horizontalpodautoscalers": "horizontalpodautoscalers.autoscaling",
	"jobs":                     "jobs.batch",
	"cronjobs":                 "cronjobs.batch",
	"poddisruptionbudgets":     "poddisruptionbudgets.policy",
	// networking, discovery, node, scheduling, coordination
	"ingress":                 "ingresses.networking.k8s.io",
	"ingressclasses":          "ingressclasses.networking.k8s.io",
	"networkpolicies":         "networkpolicies.networking.k8s.io",
	"ipaddresses":             "ipaddresses.networking.k8s.io",
	"servicecidrs":            "servicecidrs.networking.k8s.io",
	"endpointslices":          "endpointslices.discovery.k8s.io",
	"runtimeclasses":          "runtimeclasses.node.k8s.io",
	"priorityclasses":         "priorityclasses.scheduling.k8s.io",
	"leases":                  "leases.coordination.k8s.io",
	"leasecandidates":         "leasecandidates.coordination.k8s.io",
	"csidrivers":              "csidrivers.storage.k8s.io",
	"csinodes":                "csinodes.storage.k8s.io",
	"storageclasses":          "storageclasses.storage.k8s.io",
	"volumeattachments":       "volumeattachments.storage.k8s.io",
	"csistoragecapacities":    "csistoragecapacities.storage.k8s.io",
	"volumeattributesclasses": "volumeattributesclasses.storage.k8s.io",
	// rbac, certificates, admission, flow control
	"clusterroles":                      "clusterroles.rbac.authorization.k8s.io",
	"clusterrolebindings":               "clusterrolebindings.rbac.authorization.k8s.io",
	"roles":                             "roles.rbac.authorization.k8s.io",
	"rolebindings":                      "rolebindings.rbac.authorization.k8s.io",
	"certificatesigningrequests":        "certificatesigningrequests.certificates.k8s.io",
	"clustertrustbundles":               "clustertrustbundles.certificates.k8s.io",
	"mutatingwebhookconfigurations":     "mutatingwebhookconfigurations.admissionregistration.k8s.io",
	"validatingwebhookconfigurations":   "validatingwebhookconfigurations.admissionregistration.k8s.io",
	"validatingadmissionpolicies":       "validatingadmissionpolicies.admissionregistration.k8s.io",
	"validatingadmissionpolicybindings": "validatingadmissionpolicybindings.admissionregistration.k8s.io",
	"mutatingadmissionpolicies":         "mutatingadmissionpolicies.admissionregistration.k8s.io",
	"mutatingadmissionpolicybindings":   "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
	"flowschemas":                       "flowschemas.flowcontrol.apiserver.k8s.io",
	"prioritylevelconfigurations":       "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
	"resourceclaims":                    "resourceclaims.resource.k8s.io",
	"resourceclaimtemplates":            "resourceclaimtemplates.resource.k8s.io",
	"deviceclasses":                     "deviceclasses.resource.k8s.io",
	"resourceslices":                    "resourceslices.resource.k8s.io",
	"storageversionmigrations":          "storageversionmigrations.storagemigration.k8s.io",
}

// Prefixes applies the defaults of scan's and rotate's options: etcdPrefix
// "" means "/registry" and prefix "" means etcdPrefix + "/".
func Prefixes(etcdPrefix, prefix string) (string, string) {
	if etcdPrefix == "" {
		etcdPrefix = "/registry"
	}
	if prefix == "" {
		prefix = strings.TrimSuffix(etcdPrefix, "/") + "/"
	}
	return etcdPrefix, prefix
}

// ResourceOf returns the resource, as an EncryptionConfiguration names it
// ("secrets", "deployments.apps"), that kube-apiserver stores under etcdKey,
// given the apiserver's etcd prefix (normally "/registry"). Core resources
// live at <prefix>/<resource>/..., most grouped ones at <prefix>/<resource>/...
// too (mapped by the table above), and resources of groups with a dot
// (custom resources, apiservices, customresourcedefinitions) at
// <prefix>/<group>/<resource>/... Unknown first segments are returned as they
// are, as core resources. It returns "" for a key outside the prefix.
func ResourceOf(etcdKey, etcdPrefix string) string {
	p := strings.TrimSuffix(etcdPrefix, "/") + "/"
	rest, ok := strings.CutPrefix(etcdKey, p)
	if !ok || rest == "" {
		return ""
	}
	first, rest, _ := strings.Cut(rest, "/")
	if strings.Contains(first, ".") {
		second, _, _ := strings.Cut(rest, "/")
		if second == "" {
			return ""
		}
		return second + "." + first
	}
	if first == "services" && strings.HasPrefix(rest, "endpoints/") {
		return "endpoints"
	}
	if r, ok := kubeKeys[first]; ok {
		return r
	}
	return first
}
