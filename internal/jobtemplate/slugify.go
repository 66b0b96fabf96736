package jobtemplate

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// slugify is python-slugify 9's legacy slugify (the default algorithm) with
// the arguments Prefect's workers pass: lowercase, max_length and a
// character class of allowed characters (allowed reports membership). The
// separator is "-".
//
// One difference: python-slugify transliterates any non-ASCII text with
// text_unidecode; here the Latin letters of Latin-1 and Latin Extended-A are
// transliterated the same way ("Ä" → "A", "ß" → "ss") and any other
// non-ASCII character becomes a separator.
func slugify(text string, lowercase bool, maxLength int, allowed func(byte) bool) string {
	// QUOTE_PATTERN → "-" (before entity decoding, as legacy does).
	text = strings.ReplaceAll(text, "'", "-")
	text = transliterate(text)
	text = decodeEntities(text)
	if lowercase {
		text = strings.ToLower(text)
	}
	text = strings.ReplaceAll(text, "'", "")
	text = dropDigitCommas(text)
	var b strings.Builder
	inRun := false
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r < utf8.RuneSelf && allowed(byte(r)) {
			b.WriteByte(byte(r))
			inRun = false
		} else if !inRun {
			b.WriteByte('-')
			inRun = true
		}
		i += size
	}
	text = collapseDashes(b.String())
	text = strings.Trim(text, "-")
	if maxLength > 0 && len(text) >= maxLength {
		// smart_truncate without word boundaries: cut, then strip separators.
		text = strings.Trim(text[:maxLength], "-")
	}
	return text
}

// dropDigitCommas is NUMBERS_PATTERN: a comma between two digits goes.
func dropDigitCommas(s string) string {
	if !strings.Contains(s, ",") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ',' && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]) {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func collapseDashes(s string) string {
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return s
}

// decodeEntities decodes the HTML entities python-slugify decodes by
// default: the named ones that map to ASCII, &#NN; and &#xHH;. A named
// entity outside ASCII becomes a non-ASCII character, which slugify then
// drops, so only the ASCII ones matter.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			b.WriteByte(s[i])
			continue
		}
		end := strings.IndexByte(s[i:], ';')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		ent := s[i+1 : i+end]
		if r, ok := entity(ent); ok {
			b.WriteRune(r)
			i += end
			continue
		}
		b.WriteByte('&')
	}
	return b.String()
}

var asciiEntities = map[string]rune{"amp": '&', "lt": '<', "gt": '>', "quot": '"'}

func entity(e string) (rune, bool) {
	if r, ok := asciiEntities[e]; ok {
		return r, true
	}
	if strings.HasPrefix(e, "#x") {
		if n, err := strconv.ParseUint(e[2:], 16, 32); err == nil && len(e) > 2 && isHex(e[2:]) {
			return rune(n), true
		}
		return 0, false
	}
	if strings.HasPrefix(e, "#") && len(e) > 1 {
		if n, err := strconv.ParseUint(e[1:], 10, 32); err == nil {
			return rune(n), true
		}
	}
	if len(e) > 0 && !strings.ContainsAny(e, " &#") {
		// Any other known entity decodes to a non-ASCII character: a separator.
		if _, ok := nonASCIIEntities[e]; ok {
			return 0x80, true
		}
	}
	return 0, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

// A few common named entities outside ASCII; others stay literal text,
// whose "&" and ";" are separators anyway.
var nonASCIIEntities = map[string]bool{"nbsp": true, "copy": true, "reg": true, "eacute": true, "uuml": true, "ouml": true, "auml": true}

// The character classes Prefect's workers pass as regex_pattern (negated).
func labelNameChar(c byte) bool { return alnum(c) || c == '-' || c == '_' || c == '.' }
func labelPrefixChar(c byte) bool {
	return alnum(c) || c == '-' || c == '.'
}
func nameChar(c byte) bool { return alnum(c) || c == '-' }

func alnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)
}

// SlugifyName is prefect-kubernetes' _slugify_name: a Job's generateName
// stem, at most 45 characters; "" when nothing is left.
func SlugifyName(name string) string { return slugify(name, true, 45, nameChar) }

// SlugifyLabelKey is prefect-kubernetes' _slugify_label_key.
func SlugifyLabelKey(key string) string {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		name = key
	}
	nameSlug := strings.Trim(slugify(name, false, 63, labelNameChar), "_-.")
	if nameSlug == "" {
		nameSlug = name
	}
	if !hasPrefix {
		return nameSlug
	}
	prefixSlug := strings.Trim(slugify(prefix, false, 253, labelPrefixChar), "_-.")
	if prefixSlug == "" {
		prefixSlug = prefix
	}
	return prefixSlug + "/" + nameSlug
}

// SlugifyLabelValue is prefect-kubernetes' _slugify_label_value.
func SlugifyLabelValue(v string) string {
	s := strings.Trim(slugify(v, false, 63, labelNameChar), "_-.")
	if s == "" {
		return v
	}
	return s
}

// slugifyContainerName is prefect-docker's _slugify_container_name; ""
// means no name (Docker picks one).
func slugifyContainerName(name string) string {
	return strings.TrimLeft(slugify(name, false, 250, func(c byte) bool {
		return alnum(c) || c == '_' || c == '.' || c == '-'
	}), "_-.")
}

// latin1 and latinExtA are text_unidecode's ASCII for U+00C0–U+00FF and
// U+0100–U+017F, one entry per code point.
var latin1 = strings.Split("A A A A A A AE C E E E E I I I I D N O O O O O x O U U U U Y Th ss "+
	"a a a a a a ae c e e e e i i i i d n o o o o o / o u u u u y th y", " ")

var latinExtA = strings.Split("A a A a A a C c C c C c C c D d D d E e E e E e E e E e G g G g G g G g H h H h "+
	"I i I i I i I i I i IJ ij J j K k q L l L l L l L l L l N n N n N n 'n NG ng O o O o O o OE oe "+
	"R r R r R r S s S s S s S s T t T t T t U u U u U u U u U u U u W w Y y Y Z z Z z Z z s", " ")

func transliterate(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xC0 && r <= 0xFF:
			b.WriteString(latin1[r-0xC0])
		case r >= 0x100 && r <= 0x17F && int(r-0x100) < len(latinExtA):
			b.WriteString(latinExtA[r-0x100])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
