package cloudapi

import (
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		server      string
		warn, fails bool
	}{
		{"3.9.1", false, false},
		{"3.10.0rc1", false, false},
		{"3.9.2.dev3+g12ab", false, false},
		{"3.8.4", true, false},
		{"3.9.0", true, false},
		{"2.20.1", false, true},
		{"4.0.0", false, true},
		{"garbage", true, false},
	}
	for _, tc := range tests {
		w, err := compareVersions(tc.server, TargetPrefectVersion)
		if (w != nil) != tc.warn || (err != nil) != tc.fails {
			t.Errorf("%s: warn %v err %v", tc.server, w, err)
		}
	}
}
