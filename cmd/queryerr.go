package cmd

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	jmespath "github.com/jmespath-community/go-jmespath"
)

// tokenNames spell the JMESPath lexer's token types as a user types them.
var tokenNames = map[string]string{
	"TOKStar": "*", "TOKDot": ".", "TOKFilter": "[?", "TOKFlatten": "[]", "TOKLparen": "(", "TOKRparen": ")",
	"TOKLbracket": "[", "TOKRbracket": "]", "TOKLbrace": "{", "TOKRbrace": "}", "TOKOr": "||", "TOKPipe": "|",
	"TOKNumber": "a number", "TOKUnquotedIdentifier": "a name", "TOKQuotedIdentifier": "a quoted name",
	"TOKComma": ",", "TOKColon": ":", "TOKPlus": "+", "TOKMinus": "-", "TOKMultiply": "*", "TOKDivide": "/",
	"TOKModulo": "%", "TOKDiv": "//", "TOKLT": "<", "TOKLTE": "<=", "TOKGT": ">", "TOKGTE": ">=", "TOKEQ": "==",
	"TOKNE": "!=", "TOKJSONLiteral": "a `literal`", "TOKStringLiteral": "a 'string'", "TOKCurrent": "@",
	"TOKRoot": "$", "TOKExpref": "&", "TOKAnd": "&&", "TOKNot": "!", "TOKVarref": "a $variable", "TOKAssign": "=",
	"TOKEOF": "the end of the query",
}

var (
	// The parser names tokens TOKName in most messages, tName in a few.
	tokenPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(?:TOK|t)[A-Z][A-Za-z]+\b`) })
	goTypes      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[\]functions\.JpType\{([^}]*)\}`) })
)

// queryError words a JMESPath error for people: the column and a caret
// under it for a syntax error, JMESPath's type names rather than Go's.
func queryError(query string, err error) string {
	var se jmespath.SyntaxError
	var qe *querySyntaxError
	if errors.As(err, &qe) {
		se.Offset = qe.offset
	}
	if qe != nil || errors.As(err, &se) {
		var msg string
		if qe != nil {
			msg = qe.msg
		} else {
			msg = strings.TrimPrefix(se.Error(), "SyntaxError: ")
		}
		msg = tokenPattern().ReplaceAllStringFunc(msg, func(t string) string {
			if n, ok := tokenNames["TOK"+strings.TrimPrefix(strings.TrimPrefix(t, "TOK"), "t")]; ok {
				return n
			}
			return t
		})
		off := min(max(se.Offset, 0), len(query))
		col := utf8.RuneCountInString(query[:off]) // columns count characters, as the caret does
		return fmt.Sprintf("%s at column %d:\n  %s\n  %s^", msg, col+1, query, strings.Repeat(" ", col))
	}
	msg := err.Error()
	msg = goTypes().ReplaceAllStringFunc(msg, func(m string) string {
		inner := goTypes().FindStringSubmatch(m)[1]
		return "one of " + strings.ReplaceAll(inner, `"`, "")
	})
	msg = strings.ReplaceAll(msg, "must be number of string", "must be a number or a string")
	return msg
}
