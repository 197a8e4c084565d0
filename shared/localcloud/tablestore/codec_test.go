package tablestore

import (
	"errors"
	"testing"
)

// The SDK does not verify the checksums of what it reads, so the rows the
// server writes are checked here by the server's own reader, whose checksum
// arithmetic every SDK request exercises.
func TestPlainBufferRoundTrip(t *testing.T) {
	row := pbRow{
		pk: []pbCell{{name: "id", hasValue: true, v: value{vt: vtString, s: []byte("ask-1")}}, {name: "seq", hasValue: true, v: value{vt: vtInteger, i: -3}}},
		cells: []pbCell{
			{name: "f", hasValue: true, v: value{vt: vtDouble, f: 1.25}, hasTS: true, ts: 1764000000000},
			{name: "b", hasValue: true, v: value{vt: vtBoolean, b: true}, hasTS: true, ts: 1},
			{name: "blob", hasValue: true, v: value{vt: vtBlob, s: []byte{0, 0xff}}},
			{name: "gone", hasOp: true, op: opDeleteAllVersions},
		},
	}
	b := encodeRows(row, pbRow{pk: row.pk, deleted: true})
	rows, err := decodeRows(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(rows[0].cells) != 4 || rows[0].cells[0].v.f != 1.25 || !rows[1].deleted || string(rows[0].pk[0].v.s) != "ask-1" {
		t.Fatalf("decoded %+v", rows)
	}
	for _, i := range []int{len(b) - 1, 30} { // the row checksum, a byte inside a cell
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x40
		if _, err := decodeRows(bad); !errors.Is(err, errPlainBuffer) {
			t.Errorf("flipping byte %d: err = %v, want a PlainBuffer error", i, err)
		}
	}
}
