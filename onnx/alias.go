package onnx

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The wire numbers of the fields aliasRawData follows: ModelProto.graph,
// GraphProto.initializer, TensorProto.raw_data.
const (
	wireModelGraph       protowire.Number = 7
	wireGraphInitializer protowire.Number = 5
	wireTensorRawData    protowire.Number = 9
)

// aliasRawData points the raw_data of mp's top-level initializers at
// their bytes in data, the serialized model mp was decoded from, instead
// of the copies that proto.Unmarshal made: a model's weights are then
// held once as read from the file (and once more where they are decoded
// to floats), not twice. It scans the wire format for each initializer's
// raw_data in order and changes nothing unless every one it finds has the
// length and the bytes of the decoded field (a file whose fields repeat or
// merge in ways the scan does not follow keeps its copies). Each alias is
// capped at its length, so an append to it cannot write into data. It
// reports whether the initializers' raw data now lies in data.
func aliasRawData(data []byte, mp *ModelProto) bool {
	inits := mp.GetGraph().GetInitializer()
	var raws [][]byte
	ok := eachBytesField(data, wireModelGraph, func(g []byte) bool {
		return eachBytesField(g, wireGraphInitializer, func(t []byte) bool {
			var last []byte // a repeated bytes field: the last one wins
			ok := eachBytesField(t, wireTensorRawData, func(r []byte) bool { last = r; return true })
			raws = append(raws, last)
			return ok && len(raws) <= len(inits)
		})
	})
	if !ok || len(raws) != len(inits) {
		return false
	}
	for i, tp := range inits {
		if !bytes.Equal(raws[i], tp.RawData) {
			return false
		}
	}
	for i, tp := range inits {
		if len(tp.RawData) > 0 {
			tp.RawData = raws[i][:len(raws[i]):len(raws[i])]
		}
	}
	return true
}

// cloneSharingRaw returns a deep copy of mp except for its initializers'
// raw data, which the copy shares: a snapshot of a large model that costs
// its structure, not its weights. proto.Equal of the two then finds the
// raw data equal by identity, without comparing the bytes, and a
// replaced raw_data (as EncodeFloat makes) unequal.
func cloneSharingRaw(mp *ModelProto) *ModelProto {
	inits := mp.GetGraph().GetInitializer()
	raws := make([][]byte, len(inits))
	for i, tp := range inits {
		raws[i], tp.RawData = tp.RawData, nil
	}
	c := proto.Clone(mp).(*ModelProto)
	for i, tp := range inits {
		tp.RawData, c.Graph.Initializer[i].RawData = raws[i], raws[i]
	}
	return c
}

// eachBytesField calls fn with the value of every length-delimited field
// numbered num in the message b, in order, and reports whether b parsed
// and every call returned true.
func eachBytesField(b []byte, num protowire.Number, fn func([]byte) bool) bool {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return false
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 || !fn(v) {
				return false
			}
			b = b[l:]
			continue
		}
		if l = protowire.ConsumeFieldValue(n, typ, b); l < 0 {
			return false
		}
		b = b[l:]
	}
	return true
}

// minSnapshotRaw is the least raw data for which Parse shares the file's
// bytes and a Model keeps a snapshot of itself: below it, the initializers
// keep protobuf's copies and Marshal decodes the file again.
const minSnapshotRaw = 16 << 20

// maxSnapshot is the most bytes, besides the shared raw data, that a
// Model's snapshot of itself (cloneSharingRaw) may hold.
const maxSnapshot = 16 << 20

// rawSize is the bytes of mp's initializers' raw data.
func rawSize(mp *ModelProto) int {
	n := 0
	for _, tp := range mp.GetGraph().GetInitializer() {
		n += len(tp.RawData)
	}
	return n
}
