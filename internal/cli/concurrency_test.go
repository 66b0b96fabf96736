package cli

import "testing"

func TestRegisterConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     bool
		flag    int
		want    int
		wantErr bool
	}{
		{"not given: adaptive", false, 0, 0, false},
		{"given", true, 8, 8, false},
		{"one", true, 1, 1, false},
		{"zero given", true, 0, 0, true},
		{"negative given", true, -2, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := registerConcurrency(tc.set, tc.flag)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}
