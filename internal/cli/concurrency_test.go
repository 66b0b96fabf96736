package cli

import "testing"

func TestRegisterConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     bool
		flag    int
		cloud   bool
		want    int
		wantErr bool
	}{
		{"self-hosted default", false, 0, false, 1, false},
		{"cloud default", false, 0, true, 4, false},
		{"flag wins on a server", true, 8, false, 8, false},
		{"flag wins on cloud", true, 1, true, 1, false},
		{"zero given", true, 0, true, 0, true},
		{"negative given", true, -2, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := registerConcurrency(tc.set, tc.flag, tc.cloud)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}
