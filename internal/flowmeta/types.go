package flowmeta

import (
	"github.com/prefectctl/prefectctl/internal/py"
)

// typ is an annotation as the reader understands it.
type typ struct {
	ann      []*fieldInfo // Annotated[T, Field(...), ...] metadata, in order
	fixed    string       // kFixed: the qualified name in fixedSchemas
	k        tkind
	args     []*typ
	lits     []any
	cls      *classDef
	variadic bool // tuple[X, ...]
	bare     bool // no type arguments given
}

type tkind uint8

const (
	kAny   tkind = iota
	kEmpty       // a class pydantic cannot describe: {} (GenerateEmptySchemaForUserClasses)
	kStr
	kInt
	kFloat
	kBool
	kBytes
	kNone
	kList
	kSet
	kTuple
	kDict
	kUnion
	kLiteral
	kDateTime
	kDate
	kTime
	kTimedelta
	kUUID
	kPath
	kDecimal
	kSecretStr
	kEnum
	kModel
	kFixed     // a library type with a known schema (fixedSchemas)
	kDeque     // array without uniqueItems
	kCounter   // Counter[K]: object of integers
	kGenerator // Generator[Y, S, R]: array of Y
)

// fixedSchemas are pydantic's schemas for library types without type
// arguments, as pydantic 2 (the version Prefect 3.9.1 pins) renders them.
var fixedSchemas = map[string]string{
	"builtins.complex":          `{"type":"string"}`,
	"re.Pattern":                `{"format":"regex","type":"string"}`,
	"typing.Pattern":            `{"format":"regex","type":"string"}`,
	"ipaddress.IPv4Address":     `{"format":"ipv4","type":"string"}`,
	"ipaddress.IPv6Address":     `{"format":"ipv6","type":"string"}`,
	"pydantic.HttpUrl":          `{"format":"uri","maxLength":2083,"minLength":1,"type":"string"}`,
	"pydantic.AnyUrl":           `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.PositiveInt":      `{"exclusiveMinimum":0,"type":"integer"}`,
	"pydantic.NonNegativeInt":   `{"minimum":0,"type":"integer"}`,
	"pydantic.NegativeInt":      `{"exclusiveMaximum":0,"type":"integer"}`,
	"pydantic.PositiveFloat":    `{"exclusiveMinimum":0,"type":"number"}`,
	"pydantic.StrictStr":        `{"type":"string"}`,
	"pydantic.StrictInt":        `{"type":"integer"}`,
	"pydantic.StrictBool":       `{"type":"boolean"}`,
	"pydantic.StrictFloat":      `{"type":"number"}`,
	"pydantic.SecretBytes":      `{"format":"password","type":"string","writeOnly":true}`,
	"pydantic.Json":             `{"contentMediaType":"application/json","contentSchema":{},"type":"string"}`,
	"pydantic.FilePath":         `{"format":"file-path","type":"string"}`,
	"pydantic.DirectoryPath":    `{"format":"directory-path","type":"string"}`,
	"pydantic.NewPath":          `{"format":"path","type":"string"}`,
	"pydantic.PastDate":         `{"format":"date","type":"string"}`,
	"pydantic.AwareDatetime":    `{"format":"date-time","type":"string"}`,
	"pydantic.UUID4":            `{"format":"uuid4","type":"string"}`,
	"pydantic.Base64Str":        `{"format":"base64","type":"string"}`,
	"pydantic.IPvAnyAddress":    `{"format":"ipvanyaddress","type":"string"}`,
	"pydantic.IPvAnyNetwork":    `{"format":"ipvanynetwork","type":"string"}`,
	"pydantic.IPvAnyInterface":  `{"format":"ipvanyinterface","type":"string"}`,
	"ipaddress.IPv4Network":     `{"format":"ipv4network","type":"string"}`,
	"ipaddress.IPv6Network":     `{"format":"ipv6network","type":"string"}`,
	"ipaddress.IPv4Interface":   `{"format":"ipv4interface","type":"string"}`,
	"ipaddress.IPv6Interface":   `{"format":"ipv6interface","type":"string"}`,
	"pydantic.AnyHttpUrl":       `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.FileUrl":          `{"format":"uri","minLength":1,"type":"string"}`,
	"fractions.Fraction":        `{"anyOf":[{"type":"number"},{"format":"fraction","type":"string"}]}`,
	"pydantic.NonNegativeFloat": `{"minimum":0,"type":"number"}`,
	"pydantic.NegativeFloat":    `{"exclusiveMaximum":0,"type":"number"}`,
	"pydantic.NonPositiveFloat": `{"maximum":0,"type":"number"}`,
	"pydantic.NonPositiveInt":   `{"maximum":0,"type":"integer"}`,
	"pydantic.FiniteFloat":      `{"type":"number"}`,
	"pydantic.StrictBytes":      `{"format":"binary","type":"string"}`,
	"pydantic.FutureDate":       `{"format":"date","type":"string"}`,
	"pydantic.PastDatetime":     `{"format":"date-time","type":"string"}`,
	"pydantic.FutureDatetime":   `{"format":"date-time","type":"string"}`,
	"pydantic.NaiveDatetime":    `{"format":"date-time","type":"string"}`,
	"pydantic.UUID1":            `{"format":"uuid1","type":"string"}`,
	"pydantic.UUID3":            `{"format":"uuid3","type":"string"}`,
	"pydantic.UUID5":            `{"format":"uuid5","type":"string"}`,
	"pydantic.Base64Bytes":      `{"format":"base64","type":"string"}`,
	"pydantic.Base64UrlBytes":   `{"format":"base64url","type":"string"}`,
	"pydantic.Base64UrlStr":     `{"format":"base64url","type":"string"}`,
	"pydantic.SocketPath":       `{"format":"path","type":"string"}`,
	"pydantic.WebsocketUrl":     `{"format":"uri","maxLength":2083,"minLength":1,"type":"string"}`,
	"pydantic.AnyWebsocketUrl":  `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.FtpUrl":           `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.PostgresDsn":      `{"format":"multi-host-uri","minLength":1,"type":"string"}`,
	"pydantic.RedisDsn":         `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.MongoDsn":         `{"format":"multi-host-uri","minLength":1,"type":"string"}`,
	"pydantic.KafkaDsn":         `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.MySQLDsn":         `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.AmqpDsn":          `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.ByteSize":         `{"anyOf":[{"pattern":"^\\s*(\\d*\\.?\\d+)\\s*(\\w+)?","type":"string"},{"minimum":0,"type":"integer"}]}`,
}

// emptyTypes are library types pydantic describes as {} (instance checks).
var emptyTypes = map[string]bool{
	"typing.Iterator": true, "typing.Awaitable": true, "typing.Hashable": true, "typing.Sized": true,
	"typing.Container": true, "typing.Collection": true, "typing.TypeVar": true, "datetime.tzinfo": true,
}

var anyT = &typ{k: kAny}

// typer turns annotations into schema fragments, reporting what it could
// not read exactly.
type typer struct {
	ev   *evaluator
	defs *py.Map
	busy map[*classDef]bool
	warn func(m *module, line int, format string, args ...any)
}

var simpleTypes = map[string]tkind{
	"builtins.str": kStr, "builtins.int": kInt, "builtins.float": kFloat, "builtins.bool": kBool,
	"builtins.bytes": kBytes, "builtins.list": kList, "builtins.dict": kDict, "builtins.set": kSet,
	"builtins.frozenset": kSet, "builtins.tuple": kTuple, "builtins.object": kAny, "builtins.type": kEmpty,
	"typing.Any": kAny, "typing.List": kList, "typing.Dict": kDict, "typing.Set": kSet,
	"typing.FrozenSet": kSet, "typing.AbstractSet": kSet, "typing.MutableSet": kSet, "typing.Tuple": kTuple,
	"typing.Sequence": kList, "typing.MutableSequence": kList, "typing.Iterable": kList,
	"typing.Mapping": kDict, "typing.MutableMapping": kDict,
	"typing.Callable": kAny, "typing.Type": kEmpty, "typing.Deque": kDeque, "collections.deque": kDeque,
	"typing.DefaultDict": kDict, "collections.defaultdict": kDict, "typing.OrderedDict": kDict,
	"collections.OrderedDict": kDict, "typing.Counter": kCounter, "collections.Counter": kCounter,
	"typing.Generator":  kGenerator,
	"datetime.datetime": kDateTime, "datetime.date": kDate, "datetime.time": kTime,
	"datetime.timedelta": kTimedelta, "uuid.UUID": kUUID, "pathlib.Path": kPath, "pathlib.PurePath": kPath,
	"pathlib.PosixPath": kPath, "pathlib.PurePosixPath": kPath, "decimal.Decimal": kDecimal,
	"pydantic.SecretStr": kSecretStr, "builtins.None": kNone,
}

const maxTypeDepth = 64

// union flattens, removes duplicates and collapses single members, like
// typing.Union does.
func union(members []*typ) *typ {
	var flat []*typ
	var add func(t *typ)
	add = func(t *typ) {
		if t.k == kUnion && len(t.ann) == 0 { // Annotated[Union[...], ...] stays one member
			for _, a := range t.args {
				add(a)
			}
			return
		}
		for _, f := range flat {
			if typeEqual(f, t) {
				return
			}
		}
		flat = append(flat, t)
	}
	for _, m := range members {
		add(m)
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return &typ{k: kUnion, args: flat}
}

// typeEqual is structural equality, for removing duplicate union members.
func typeEqual(a, b *typ) bool {
	if a.k != b.k || a.cls != b.cls || a.variadic != b.variadic || a.bare != b.bare ||
		len(a.args) != len(b.args) || len(a.lits) != len(b.lits) || a.fixed != b.fixed {
		return false
	}
	if len(a.ann) > 0 || len(b.ann) > 0 {
		// Annotated[int, ...] and int are different union members; two
		// annotated ones are kept apart too (their metadata may differ).
		return false
	}
	for i := range a.args {
		if !typeEqual(a.args[i], b.args[i]) {
			return false
		}
	}
	for i := range a.lits {
		if pyTypeName(a.lits[i]) != pyTypeName(b.lits[i]) || !pyEqual(a.lits[i], b.lits[i]) {
			return false
		}
	}
	return true
}
