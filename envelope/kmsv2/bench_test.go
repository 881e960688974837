package kmsv2_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	kkmsv2 "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2"
	kmstypes "k8s.io/apiserver/pkg/storage/value/encrypt/envelope/kmsv2/v2"

	"github.com/atrest-dev/atrest/envelope/kmsv2"
)

// BenchmarkParse decides the decoder: Parse (by hand, aliasing the payload)
// against proto.Unmarshal into kube-apiserver's generated EncryptedObject
// followed by its ValidateEncryptedObject, what the apiserver runs on every
// read. Payloads as the apiserver writes them: an HKDF value of 4 KiB, with
// and without two annotations.
//
//	go test -run '^$' -bench Parse -count 6 ./envelope/kmsv2/ | benchstat -col /decoder -
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		name string
		anns map[string][]byte
	}{{"annotations=0", nil}, {"annotations=2", map[string][]byte{"version.kms.example.com": []byte("1"), "region.kms.example.com": []byte("eu-west-1")}}} {
		o := &kmstypes.EncryptedObject{
			EncryptedData:          make([]byte, 4096+60),
			KeyID:                  "d3c9e4a1b2f0e8d7c6b5a4f3e2d1c0b9",
			EncryptedDEKSource:     make([]byte, 60),
			Annotations:            c.anns,
			EncryptedDEKSourceType: kmstypes.EncryptedDEKSourceType_HKDF_SHA256_XNONCE_AES_GCM_SEED,
		}
		payload, err := proto.Marshal(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/decoder=atrest", func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kmsv2.Parse(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/decoder=protobuf", func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				var o kmstypes.EncryptedObject
				if err := proto.Unmarshal(payload, &o); err != nil {
					b.Fatal(err)
				}
				if err := kkmsv2.ValidateEncryptedObject(&o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
