package jobtemplate

import (
	"strings"
	"testing"
)

// Expected values computed with python-slugify 9.1.3 (Prefect 3.9.1's pin)
// and the arguments of prefect-kubernetes' _slugify_name and
// _slugify_label_value and prefect-docker's _slugify_container_name.
func TestSlugifyMatchesPythonSlugify(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct{ in, name, labelValue, container string }{
		{"smart-otter", "smart-otter", "smart-otter", "smart-otter"},
		{"Hello World!", "hello-world", "Hello-World", "Hello-World"},
		{"a__b..c--d", "a-b-c-d", "a__b..c-d", "a__b..c-d"},
		{"Ä value__", "a-value", "A-value", "A-value__"},
		{"Straße & Co", "strasse-co", "Strasse-Co", "Strasse-Co"},
		{"x&amp;y", "x-y", "x-y", "x-y"},
		{"1,000,000 rows", "1000000-rows", "1000000-rows", "1000000-rows"},
		{"it's mine", "it-s-mine", "it-s-mine", "it-s-mine"},
		{"-_.lead/trail._-", "lead-trail", "lead-trail", "lead-trail._"},
		{"UPPER/Case_Key", "upper-case-key", "UPPER-Case_Key", "UPPER-Case_Key"},
		{"ünïcödé ÆØÅ", "unicode-aeoa", "unicode-AEOA", "unicode-AEOA"},
		{long, long[:45], long[:63], long},
		{"tab\tnew\nline", "tab-new-line", "tab-new-line", "tab-new-line"},
		{"&#65;&#x42;", "ab", "AB", "AB"},
		{"2026-12-05T08:40:01.123456+00:00", "2026-12-05t08-40-01-123456-00-00", "2026-12-05T08-40-01.123456-00-00", "2026-12-05T08-40-01.123456-00-00"},
	}
	for _, tt := range tests {
		if got := SlugifyName(tt.in); got != tt.name {
			t.Errorf("SlugifyName(%q) = %q, want %q", tt.in, got, tt.name)
		}
		if got := SlugifyLabelValue(tt.in); got != tt.labelValue {
			t.Errorf("SlugifyLabelValue(%q) = %q, want %q", tt.in, got, tt.labelValue)
		}
		if got := slugifyContainerName(tt.in); got != tt.container {
			t.Errorf("slugifyContainerName(%q) = %q, want %q", tt.in, got, tt.container)
		}
	}
	if got := SlugifyLabelKey("Owner Org/Key name!"); got != "Owner-Org/Key-name" {
		t.Errorf("SlugifyLabelKey = %q", got)
	}
}

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "prefect flow-run execute", want: []string{"prefect", "flow-run", "execute"}},
		{in: `python -c 'print("hi there")' "x y"`, want: []string{"python", "-c", `print("hi there")`, "x y"}},
		{in: `a\ b "c\"d" 'e\f'`, want: []string{"a b", `c"d`, `e\f`}},
		{in: `"open`, err: "No closing quotation"},
		{in: `trailing\`, err: "No escaped character"},
	}
	for _, tt := range tests {
		got, err := shlexSplit(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("shlexSplit(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
