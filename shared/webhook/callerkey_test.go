package webhook

import (
	"testing"

	"github.com/fc-rds-backup/fc-rds-backup/shared/backup"
)

func TestHasCallerKey(t *testing.T) {
	tests := []struct {
		trig backup.Trigger
		want bool
	}{
		{backup.Trigger{Kind: "signed", DeliveryId: "deploy-4711"}, true},
		{backup.Trigger{Kind: "signed", DeliveryId: derivedDelivery + "1795500000-00aa"}, false},
		{backup.Trigger{Kind: "signed"}, false},
		{backup.Trigger{Kind: "github", DeliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}, false},
	}
	for _, tc := range tests {
		if got := HasCallerKey(tc.trig); got != tc.want {
			t.Errorf("HasCallerKey(%+v) = %v, want %v", tc.trig, got, tc.want)
		}
	}
}
