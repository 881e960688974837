package kubepeer

import (
	"google.golang.org/protobuf/proto"
	kkmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"
)

// ParseKMS decodes a KMS v2 payload (what follows k8s:enc:kms:v2:<name>:)
// as kube-apiserver does before using it: proto.Unmarshal into its
// generated EncryptedObject, then ValidateEncryptedObject. It is the
// reference that kmsv2.Parse is tested and fuzzed against.
func ParseKMS(payload []byte) (*kmstypes.EncryptedObject, error) {
	o := &kmstypes.EncryptedObject{}
	if err := proto.Unmarshal(payload, o); err != nil {
		return nil, err
	}
	if err := kkmsv2.ValidateEncryptedObject(o); err != nil {
		return nil, err
	}
	return o, nil
}
