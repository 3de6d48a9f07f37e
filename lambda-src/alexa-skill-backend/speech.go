package main

import (
	"fmt"
	"strings"
	"time"
)

// phrases are the sentences of one locale.
type phrases struct {
	tellTime  func(utc time.Time) string
	help      string
	reprompt  string
	goodbye   string
	fallback  string
	malformed string
}

func clock12(t time.Time) string {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	ampm := "AM"
	if t.Hour() >= 12 {
		ampm = "PM"
	}
	return fmt.Sprintf("%d:%02d %s", h, t.Minute(), ampm)
}

var (
	english = phrases{
		// "U.T.C." as the seed wrote it, so Alexa spells it out rather than guessing a word.
		tellTime:  func(t time.Time) string { return fmt.Sprintf("It is %s U.T.C.", clock12(t)) },
		help:      "You can ask me what time it is, and I will tell you the time in U.T.C. What would you like to do?",
		reprompt:  "You can ask: what time is it?",
		goodbye:   "Goodbye!",
		fallback:  "Sorry, I can't help with that. You can ask me what time it is.",
		malformed: "Sorry, I could not understand that request.",
	}
	british = func() phrases {
		p := english
		p.tellTime = func(t time.Time) string { return fmt.Sprintf("It is %02d:%02d U.T.C.", t.Hour(), t.Minute()) }
		return p
	}()
	german = phrases{
		tellTime:  func(t time.Time) string { return fmt.Sprintf("Es ist %d:%02d Uhr UTC.", t.Hour(), t.Minute()) },
		help:      "Du kannst mich fragen, wie spät es ist. Ich sage dir die Uhrzeit in UTC. Was möchtest du tun?",
		reprompt:  "Frag zum Beispiel: Wie spät ist es?",
		goodbye:   "Tschüss!",
		fallback:  "Das kann ich leider nicht. Du kannst mich fragen, wie spät es ist.",
		malformed: "Entschuldigung, diese Anfrage habe ich nicht verstanden.",
	}
	french = phrases{
		tellTime:  func(t time.Time) string { return fmt.Sprintf("Il est %d h %02d UTC.", t.Hour(), t.Minute()) },
		help:      "Vous pouvez me demander l'heure, je vous donnerai l'heure UTC. Que voulez-vous faire ?",
		reprompt:  "Demandez par exemple : quelle heure est-il ?",
		goodbye:   "Au revoir !",
		fallback:  "Désolé, je ne peux pas vous aider avec cela. Vous pouvez me demander l'heure.",
		malformed: "Désolé, je n'ai pas compris cette demande.",
	}
	spanish = phrases{
		tellTime: func(t time.Time) string {
			if t.Hour() == 1 {
				return fmt.Sprintf("Es la 1:%02d UTC.", t.Minute())
			}
			return fmt.Sprintf("Son las %d:%02d UTC.", t.Hour(), t.Minute())
		},
		help:      "Puedes preguntarme qué hora es y te diré la hora UTC. ¿Qué quieres hacer?",
		reprompt:  "Pregunta, por ejemplo: ¿qué hora es?",
		goodbye:   "¡Adiós!",
		fallback:  "Lo siento, no puedo ayudarte con eso. Puedes preguntarme qué hora es.",
		malformed: "Lo siento, no he entendido esa petición.",
	}
)

// byLocale holds the exact tags that differ from their language's default.
var byLocale = map[string]phrases{
	"en-gb": british,
	"en-ie": british,
}

// byLanguage is each supported language's default.
var byLanguage = map[string]phrases{
	"en": english,
	"de": german,
	"fr": french,
	"es": spanish,
}

// phrasesFor resolves a locale tag such as "en-US": the exact tag, then its language, then
// English (en-US), because Alexa only sends locales the skill package declares and an answer
// in English beats none.
func phrasesFor(locale string) phrases {
	tag := strings.ToLower(strings.TrimSpace(locale))
	if p, ok := byLocale[tag]; ok {
		return p
	}
	lang, _, _ := strings.Cut(tag, "-")
	if p, ok := byLanguage[lang]; ok {
		return p
	}
	return english
}
