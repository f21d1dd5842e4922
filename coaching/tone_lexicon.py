"""Cue patterns for :mod:`coaching.tone`, kept as data so a reviewer can see every rule in one place.

Every pattern runs against *normalized* text: casefolded, accents stripped (``qué`` -> ``que``,
``müssen`` -> ``mussen``, ``ß`` -> ``ss``), curly quotes straightened, ``¿``/``¡`` and double quotes
dropped, whitespace collapsed. Patterns must not use capturing groups (``(?:...)`` only).

Each cue adds its weight to its label's score. A question is flagged when its best pressure label
(status_demand, blame or directive) scores strictly more than its coaching cues; with no cue at all
it reads as coaching. Weights: 3 = the phrase alone decides, 2 = a strong hint, 1 = a booster that
only tips a balance (deadlines, urgency).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence (or clause) start: imperatives and yes/no checks are only read there, so "what would
# help you call Acme" is not taken for the command "call Acme".
SOS = r"(?:^|(?<=[.?!;:,] ))"
# Optional softeners in front of an imperative.
SOFT = r"(?:(?:please|just|now|so|ok|okay|then|and|also|go|pls) )*"


@dataclass(frozen=True)
class Cue:
    label: str
    lang: str
    weight: int
    name: str  # the human-readable phrase quoted in ToneResult.reasons
    regex: re.Pattern[str]
    # Literal snippets, one of which occurs in every match; empty when none could be derived. A cheap
    # `in` test on them skips most regex searches, which is what keeps classify() above 10k/s.
    needles: tuple[str, ...] = ()


_Row = tuple[str, int, str]  # (name, weight, pattern)

_TABLE: dict[tuple[str, str], tuple[_Row, ...]] = {
    ("coaching", "en"): (
        ("what would help", 2, r"\bwhat (?:would|could|might|will) (?:most |really |best |else )?help\b"),
        ("how can I help", 2, r"\bhow (?:can|could|might|may|do) (?:i|we) (?:best )?(?:help|support|assist)\b"),
        ("what can I do", 2, r"\bwhat (?:can|could|should) i (?:do|take|change|help|bring)\b"),
        ("anything I can", 2, r"\banything (?:i|we) (?:can|could)\b"),
        ("would it help", 2, r"\bwould it help\b"),
        ("where could I", 2, r"\bwhere (?:can|could|might) i\b"),
        ("what did you learn", 2, r"\bwhat (?:did|have|do|are|can|could) (?:you|we)(?: been)? learn"),
        ("learn from", 1, r"\blearn(?:ed|t|ing)? from\b"),
        ("taught you", 2, r"\b(?:teach|teaches|taught) (?:you|us)\b"),
        ("why don't we", 3, r"\bwhy (?:don'?t|do not|not) we\b"),
        ("what if we", 2, r"\bwhat if (?:we|you|i)\b"),
        ("how might we", 2, r"\bhow (?:might|could|can|should) we\b"),
        ("how do you want", 2, r"\bhow (?:do|would) you (?:want|like|plan|see|feel|think)\b"),
        ("went well", 2, r"\b(?:went|go|going|gone|goes) well\b"),
        ("working well", 2, r"\bworking (?:well|for you)\b"),
        ("what would you change", 2,
         r"\bwhat (?:would|will|could|might) you (?:change|do|try|want|like|need|practice|suggest)\b"),
        ("differently", 1, r"\bdifferently\b"),
        ("in the way", 2, r"\b(?:getting|get|gets|got|standing|stands) in (?:the|your) way\b"),
        ("what's blocking", 2, r"\bwhat(?:'?s| is| are)? (?:blocking|holding|slowing|stopping)\b"),
        ("holding back", 1, r"\bholding [\w' -]{1,40}? back\b"),
        ("unblock", 2, r"\bunblock"),
        ("obstacle", 2, r"\bobstacles?\b"),
        ("feel stuck", 2, r"\bfeel(?:ing)? stuck\b|\bwhere (?:are|do) you (?:feel )?stuck\b"),
        ("what support", 2, r"\bwhat (?:kind of |sort of )?(?:support|resources|help)\b"),
        ("next steps", 2, r"\bnext steps?\b|\bwhat(?:'?s| is) next\b"),
        ("do you think", 2, r"\b(?:what|why|how|who|which) do you (?:think|see)\b"),
        ("what options", 2, r"\bwhat options\b"),
        ("how are you feeling", 2, r"\bhow (?:are|do) you feel(?:ing)?\b|\bhow confident\b"),
        ("your read", 2, r"\bwhat(?:'?s| is) your (?:read|plan|take|sense|hypothesis|thinking|idea|view|gut)\b"),
        ("look like", 2, r"\bwhat (?:would|does|will|might) [\w' -]{1,40}?look like\b"),
        ("what would it take", 2, r"\bwhat would it take\b"),
        ("what would make", 2, r"\bwhat (?:would|could|might) make\b"),
        ("what made it work", 2, r"\bwhat made [\w' -]{1,40}?\b(?:well|work|click|land)\b"),
        ("what surprised you", 2, r"\bwhat (?:surprised|did you notice|do you notice|are you seeing)\b"),
        ("curious or proud", 1, r"\b(?:curious|excited|proud|energi[sz]es?|energy|enjoy(?:ed)?)\b"),
        ("one thing", 2, r"\bwhat(?:'?s| is) (?:the |your )?one (?:thing|experiment|win|change)\b|\bone win\b"),
        ("if you could", 2, r"\bif you could\b"),
        ("what questions", 2, r"\bwhat questions\b"),
        ("trade-offs", 2, r"\btrade-?offs?\b|\bweighing\b"),
        ("on your mind", 2, r"\bon your mind\b"),
        ("what do you need", 2, r"\bwhat (?:do|would|will) you need\b"),
    ),
    ("coaching", "es"): (
        ("qué te ayudaría", 2, r"\bque (?:mas )?te (?:ayudaria|serviria)\b"),
        ("cómo puedo ayudarte", 2, r"\bcomo (?:te )?(?:puedo|podemos|podria) (?:ayudar|apoyar)"),
        ("qué aprendiste", 2, r"\bque aprendiste\b|\bque hemos aprendido\b"),
        ("por qué no probamos", 3, r"\bpor que no (?:probamos|intentamos|hacemos|vemos|pensamos|preparamos)\b"),
        ("qué salió bien", 2, r"\bque salio bien\b|\bque (?:harias|cambiarias)\b"),
        ("qué te frena", 2, r"\bque te (?:esta )?(?:frena|frenando|bloquea|bloqueando|detiene|impide)"),
        ("próximos pasos", 2, r"\bproximos pasos\b|\bque necesitas\b"),
    ),
    ("coaching", "de"): (
        ("was würde dir helfen", 2, r"\bwas (?:wurde|konnte) dir (?:am meisten |wirklich )?helfen\b"),
        ("wie kann ich dich unterstützen", 2, r"\bwie kann ich (?:dich|dir|ihnen|euch)\b"),
        ("was hast du gelernt", 2, r"\bwas hast du [^?]{0,80}gelernt\b"),
        ("warum probieren wir nicht", 3, r"\bwarum (?:probieren|versuchen|machen|testen) wir (?:es )?nicht\b"),
        ("was lief gut", 2, r"\bwas (?:lief|ist|hat) (?:gut|besonders gut)\b|\bwas wurdest du (?:anders|andern)\b"),
        ("was hält dich auf", 2, r"\bwas halt dich\b|\bwas brauchst du\b|\bnachsten schritte\b"),
    ),
    ("coaching", "fr"): (
        ("qu'est-ce qui t'aiderait", 2, r"\bqu'est-ce qui (?:t'|vous )aiderait\b"),
        ("comment puis-je t'aider", 2,
         r"\bcomment (?:puis-je|je peux|pourrais-je) (?:t'|vous )?(?:aider|soutenir|accompagner)"),
        ("qu'as-tu appris", 2, r"\bqu'(?:as-tu|avez-vous) appris\b|\bqu'est-ce que tu as appris\b"),
        ("pourquoi ne pas essayer", 3, r"\bpourquoi ne pas (?:essayer|tester|tenter)\b|\bpourquoi on n'essaie"),
        ("qu'est-ce qui a bien marché", 2,
         r"\bqu'est-ce qui a bien (?:marche|fonctionne)\b|\bque (?:ferais|changerais)-tu\b"),
        ("qu'est-ce qui te bloque", 2,
         r"\bqu'est-ce qui te (?:bloque|freine)\b|\bde quoi (?:as-tu|tu as) besoin\b|\bprochaines etapes\b"),
    ),
    ("coaching", "pt"): (
        ("o que te ajudaria", 2, r"\bo que (?:mais )?(?:te|lhe) ajudaria\b"),
        ("como posso te apoiar", 2, r"\bcomo (?:eu )?(?:posso|podemos) (?:te |lhe )?(?:ajudar|apoiar)"),
        ("o que você aprendeu", 2, r"\bo que (?:voce|vc|tu) aprend"),
        ("por que não tentamos", 3, r"\bpor que (?:a gente )?nao (?:tentamos|testamos|experimentamos|tenta)\b"),
        ("o que deu certo", 2, r"\bo que deu certo\b|\bo que voce faria (?:de )?diferente\b"),
        ("o que está te travando", 2,
         r"\bo que (?:esta )?(?:te )?(?:impedindo|travando)\b|\bdo que voce precisa\b|\bproximos passos\b"),
    ),
    ("status_demand", "en"): (
        ("status", 3, r"\bstatus\b"),
        ("any update", 3, r"\bany (?:updates?|news|progress|movement|word|change)\b"),
        ("update me", 3, r"\bupdate (?:me|us)\b|^updates?\W*$|\bupdates? (?:on|about|re)\b"),
        ("update your pipeline", 3, SOS + r"update (?:your|the) (?:pipeline|forecast|numbers|crm)\b"),
        ("an update", 2, r"\b(?:an|the|status|quick|your) updates?\b"),
        ("keep me posted", 3, r"\bkeep me (?:posted|updated|in the loop|informed)\b|\bfill me in\b"),
        ("give me a rundown", 3,
         r"\bgive me (?:an? |the |your )?(?:update|rundown|status|numbers?|count|summary|recap)\b|\brundown\b"),
        ("what's the latest", 3, r"\blatest (?:on|with)\b|\bwhat(?:'?s| is) (?:the )?latest\b"),
        ("where are we on", 3, r"\bwhere (?:are|do|does|is) (?:we|things|you|it)(?: at)? (?:on|with)\b"),
        ("where do we stand", 3, r"\bwhere [\w' -]{1,40}? stands?\b|\bwhere(?:'?s| is| are) [\w' -]{1,40}? at\W*$"),
        ("where's the paperwork", 2,
         r"\bwhere(?:'?s| is| are) (?:the|my|your|our) [\w' -]{0,30}?"
         r"(?:redlines?|contract|proposal|quote|po|order form|paperwork|deck|forecast|report|numbers)\b"),
        ("how many calls", 3,
         r"\bhow many (?:[\w'-]+ ){0,2}?(?:calls|dials|emails|meetings|demos|deals|touches|accounts|leads|"
         r"opportunities|opps|logos|appointments|visits|contacts|proposals|quotes)\b"),
        ("how much pipeline", 3, r"\bhow much (?:pipeline|revenue|business|arr|mrr|have you|did you)\b"),
        ("your numbers", 2, r"\b(?:your|the|my) numbers\b|^numbers\b"),
        ("send me your", 3, r"\bsend me (?:your|the|a|an)\b"),
        ("what's your forecast", 3,
         r"\bwhat(?:'?s| is| are) (?:your|the) (?:[\w'-]+ )?(?:forecast|commit|number|numbers|pipeline|count|"
         r"eta|close date|coverage|progress)\b"),
        ("eta", 2, r"\beta\b"),
        ("... yet?", 3, SOS + r"(?:did|have|has|is|are|was)\b[^?]*\byet\b"),
        ("did you send", 3,
         SOS + r"(?:did|have|has) (?:[\w'-]+ ){1,5}?(?:close|closed|sign|signed|send|sent|call|called|finish|"
         r"finished|book|booked|submit|submitted|update|updated|log|logged|hear|heard|come back|come through|"
         r"approve|approved|agree|agreed|"
         r"reply|replied|follow up|followed up)\b"),
        ("is it signed", 3,
         SOS + r"(?:is|are|was|were) (?:[\w'-]+ ){1,4}?(?:still on|closed|signed|done|finished|booked|sent|live|"
         r"won|approved|submitted|confirmed)\b"),
        ("going to close", 2, r"\b(?:going|gonna) (?:to )?(?:sign|close|hit|land|come in|happen|convert)\b"),
        ("on track", 2, r"\bon track\b"),
        ("when will it close", 3,
         SOS + r"when (?:will|is|are|does|do|can|should) [\w' -]{1,40}?(?:close|closing|sign|signing|done|ready|"
         r"finish|finished|land|come in|go live)\b"),
        ("how's the deal going", 2,
         SOS + r"how(?:'?s| is| are) (?:the|your|that|this|our|things with) [\w' -]{0,40}?"
         r"(?:going|coming along|looking|tracking|progressing)\b"),
        ("how close is", 3, SOS + r"how close (?:is|are)\b"),
        ("what's happening with", 2, r"\bwhat(?:'?s| is) (?:happening|going on|new) (?:with|on)\b"),
        ("what did you get done", 3,
         r"\bwhat (?:did|have) you (?:get done|done|accomplished|achieved|closed|booked|sold)\b"),
        ("what are you committing", 3, r"\bwhat (?:are|is) (?:you|your) commit"),
        ("news", 2, r"\bnews\b"),
        ("progress on", 2, r"\bprogress (?:on|with|report)\b"),
        ("I need your numbers", 3,
         r"\bi need (?:a |an |the |your )?(?:status|update|numbers|number|report|forecast|count)\b"),
        ("let me know where", 2, r"\blet me know (?:where|when|if|how|what|the)\b"),
    ),
    ("status_demand", "es"): (
        ("estado de", 3, r"\bestado del?\b|\bestatus\b"),
        ("alguna novedad", 3, r"\balguna novedad\b|\bnovedades\b"),
        ("en qué punto está", 3, r"\ben que (?:punto|estado) (?:esta|estamos|va|van)\b"),
        ("cuántas llamadas", 3, r"\bcuant[oa]s (?:llamadas|reuniones|demos|correos|tratos|visitas|clientes)\b"),
        ("mándame tus números", 3, r"\b(?:mandame|enviame|pasame) (?:tus|los|el|la)\b"),
        ("ya cerraste", 3, r"\bya (?:cerraste|firmaron|firmo|enviaste|llamaste|cerro|cerraron)\b"),
        ("ponme al día", 3, r"\bponme al dia\b|\bmantenme (?:al tanto|informado)\b"),
        ("cómo va", 2, r"\bcomo va (?:el|la|lo)\b"),
    ),
    ("status_demand", "de"): (
        ("wie ist der Stand", 3, r"\bwie ist der (?:stand|status)\b|\bstand der dinge\b"),
        ("gibt es was Neues", 3, r"\bgibt es (?:was|etwas) neues\b|\bwas gibt'?s neues\b|\bneuigkeiten\b"),
        ("wie viele Anrufe", 3, r"\bwie viele (?:anrufe|termine|demos|meetings|deals|mails|e-mails|abschlusse)\b"),
        ("schick mir deine Zahlen", 3, r"\bschick(?:e)? mir (?:deine|die|ihre|den)\b"),
        ("schon abgeschlossen", 3,
         r"\b(?:hast du|haben sie|ist) [\w' -]{1,40}?schon (?:abgeschlossen|unterschrieben|angerufen|geschickt|"
         r"verschickt)\b"),
        ("halte mich auf dem Laufenden", 3, r"\bhalt(?:e|en sie)? mich auf dem laufenden\b"),
    ),
    ("status_demand", "fr"): (
        ("où en est", 3, r"\bou en (?:est|sont|sommes|etes|es)\b|\bou on en est\b"),
        ("des nouvelles", 3, r"\bdes nouvelles\b"),
        ("quel est le statut", 3, r"\bstatut\b|\bquel est (?:l'etat|l'avancement)\b"),
        ("combien d'appels", 3, r"\bcombien (?:d'appels|de rendez-vous|de demos|de rdv|d'emails|de contrats)\b"),
        ("envoie-moi tes chiffres", 3, r"\benvoie(?:z)?-moi (?:tes|les|ton|vos|votre)\b"),
        ("déjà signé", 3, r"\bdeja (?:signe|conclu|envoye|ferme|appele)\b"),
        ("tiens-moi au courant", 3, r"\btiens-moi au courant\b|\bfais-moi (?:un|le) point\b"),
    ),
    ("status_demand", "pt"): (
        ("qual é o status", 3, r"\bqual (?:e )?o (?:status|andamento)\b"),
        ("alguma novidade", 3, r"\balguma novidade\b|\bnovidades\b"),
        ("quantas ligações", 3, r"\bquant[oa]s (?:ligacoes|reunioes|demos|emails|chamadas|visitas)\b"),
        ("me manda seus números", 3, r"\bme (?:manda|envia|passa) (?:seus|os|o|teus|tua|sua)\b"),
        ("já fechou", 3, r"\bja (?:fechou|assinou|enviou|ligou|fechaste)\b"),
        ("me atualiza", 3, r"\bme (?:atualiza|atualize|mantenha informado)\b|\bcomo (?:esta|anda) o andamento\b"),
    ),
    ("blame", "en"): (
        ("why did you", 3,
         r"\bwhy(?: did|'d| would| do) (?:you|ya|u)\b(?! (?:think|suppose|reckon|believe|feel)\b)"),
        ("why didn't you", 3, r"\bwhy (?:did|does|would|have|has|had|was|were|is|are|could)(?:n'?t| not)\b"),
        ("why ... still / always / so late", 3,
         r"\bwhy\b[^?.!]{0,60}?\b(?:always|never|still|again|keep|keeps|so (?:far|low|long|early|late|much|"
         r"slow|bad|few|little))\b"),
        ("why on earth", 3,
         r"\b(?:why|what|how|who) (?:on earth|the hell|the heck|in the world)\b|\bwhy did it take\b"),
        ("why would", 2, r"\bwhy would\b"),
        ("why did it fall apart", 2,
         r"\bwhy did [\w' -]{1,30}?(?:churn|fall apart|slip|die|go dark|go cold|stall|walk|fail|lose|get lost|"
         r"get missed)\b"),
        ("on your watch", 3, r"\bon your watch\b"),
        ("what went wrong", 3, r"\b(?:went|gone) wrong\b|\bdo wrong\b|\bwhat(?:'?s| is) wrong with\b"),
        ("whose fault", 3, r"\bwhose (?:fault|idea|call|mistake)\b|\bfault\b|\bto blame\b"),
        ("how could you", 3, r"\bhow could you\b"),
        ("how did you let it slip", 3,
         r"\bhow (?:did|do|can|could) [\w' -]{1,25}? (?:let|lose|miss|mess|screw|blow|drop|forget|slip|"
         r"get missed|manage to)\b"),
        ("how is it possible", 3, r"\bhow is it possible\b|\bwhat were you thinking\b"),
        ("your excuse", 3, r"\byour excuse\b"),
        ("who dropped the ball", 3,
         r"\bwho (?:dropped|messed|screwed|blew|let|lost|missed|is responsible|was responsible|is to blame)\b"),
        ("dropped the ball", 3,
         r"\bdrop(?:ped)? the ball\b|\bthrough the cracks\b|\b(?:mess|messed|screw|screwed) up\b|\bblew it\b"),
        ("you always", 3, r"\byou (?:always|never|keep)\b"),
        ("how many times", 3, r"\bhow many times do i\b|\bthe (?:second|third|fourth|fifth) time\b"),
        ("what is going on with you", 3,
         r"\bwhat(?:'?s| is) going on with you\b|\bwhat (?:were|have) you (?:been )?doing\b"),
        ("in the bag", 3, r"\bin the bag\b"),
    ),
    ("blame", "es"): (
        ("por qué perdiste", 3, r"\bpor que (?:no )?(?:[a-z]+ ){0,2}?[a-z]+(?:aste|iste|asteis|isteis)\b"),
        ("qué salió mal", 3, r"\bque salio mal\b|\bcomo (?:pudiste|se te ocurrio)\b"),
        ("de quién es la culpa", 3, r"\bculpa\b"),
    ),
    ("blame", "de"): (
        ("warum hast du", 3, r"\bwarum (?:hast du|haben sie|habt ihr|bist du|warst du)\b"),
        ("warum nicht", 2, r"\bwarum (?:hat|ist|sind) [\w' -]{1,30}?(?:nicht|schon wieder)\b"),
        ("was ist schiefgelaufen", 3, r"\bschief ?(?:gelaufen|gegangen)\b"),
        ("wessen Schuld", 3, r"\bschuld\b|\bwie (?:konntest du|konnten sie)\b"),
    ),
    ("blame", "fr"): (
        ("pourquoi as-tu", 3,
         r"\bpourquoi (?:as-tu|avez-vous|tu as|vous avez|n'as-tu|n'avez-vous|tu n'as|vous n'avez)\b"),
        ("qu'est-ce qui a mal tourné", 3,
         r"\ba mal tourne\b|\bn'a pas (?:marche|fonctionne)\b|\bqu'est-ce qui (?:a|s'est) mal passe\b"),
        ("la faute de qui", 3, r"\bla faute\b|\bfaute de qui\b"),
        ("comment as-tu pu", 3, r"\bcomment (?:as-tu|avez-vous|tu as|vous avez) pu\b"),
    ),
    ("blame", "pt"): (
        ("por que você perdeu", 3, r"\bpor que (?:voce|vc|tu) (?:nao )?[a-z]+(?:ou|eu|iu)\b"),
        ("o que deu errado", 3, r"\bo que deu errado\b|\bcomo (?:voce|tu) (?:pode|pudeste)\b"),
        ("de quem é a culpa", 3, r"\bde quem (?:e|foi) a culpa\b"),
    ),
    ("directive", "en"): (
        ("you need to", 3,
         SOS + SOFT + r"you(?:'ve| have)? (?:need|have|got|gotta|must|should|will|'ll|ought)\b(?: to)?"),
        ("you need to (mid-sentence)", 2,
         r"(?<!do )(?<!would )(?<!could )(?<!think )(?<!if )\byou (?:need|have|must|gotta)(?: to)? "
         r"(?!be able)"),
        ("make sure", 3, SOS + SOFT + r"make sure\b|\b(?:can|could|would|will) you (?:please )?make sure\b"),
        ("I want you to", 3,
         r"\bi(?:'d| would)?(?: really)? (?:want|need|expect|like) (?:you|u) to\b|\bi expect\b"),
        ("I want it closed", 3,
         r"\bi want (?:[\w'-]+ ){1,5}?(?:in commit|closed|signed|done|on my desk)\b"),
        ("get it done", 2,
         r"\bget (?:[\w'-]+ ){1,4}?(?:done|signed|closed|over the line|across the line)\b|\bget it done\b"),
        ("why don't you", 3, r"\bwhy (?:don'?t|do not) you\b"),
        ("can you send", 3,
         r"\b(?:can|could|would|will) you (?:please |just )?(?:call|send(?! me\b)|get|close|book|finish|push|follow up|"
         r"chase|email|schedule|set up|have|ping|reach out|submit|sign|loop|escalate|prep|prepare)\b"),
        ("needs to be closed", 3, r"\bneeds? to be (?:closed|signed|done|sent|booked|finished|in)\b"),
        ("let's get it signed", 2, SOS + r"let'?s (?:get|close|push|make sure|hit|just)\b"),
        ("imperative verb", 2,
         SOS + SOFT + r"(?:call|email|phone|ring|text|send|close|book|schedule|follow up|push|get|finish|set up|"
         r"reach out|chase|ping|fix|escalate|offer|lower|drop|cut|add|prep|prepare|write|submit|sign|stop|"
         r"start|don'?t|do not|never|always|focus|hit|ask|put|move|talk(?! me\b)|work|loop|re-send|resend|be|"
         r"have(?! you\b| we\b| they\b)|make|bring|tell(?! me\b)|find|pitch|present|log|review|double|update|demo|"
         r"finalize|deliver|confirm|lock|nail|do(?! you\b| we\b| they\b| i\b))\b"),
        ("no excuses", 2, r"\bno (?:excuses|exceptions)\b"),
        ("deadline", 1,
         r"\b(?:asap|right away|immediately|today|tonight|by (?:eod|cob|end of day|noon|"
         r"tomorrow|monday|tuesday|wednesday|thursday|friday)|before (?:lunch|noon|you log off|friday))\b"),
    ),
    ("directive", "es"): (
        ("tienes que", 3, r"\b(?:tienes|tenes|tiene|tenes) que\b|\b(?:necesitas|debes|deberias) [a-z]+r\b"),
        ("asegúrate de", 3, r"\basegurate de\b|\bquiero que\b"),
        ("imperativo", 2,
         SOS + r"(?:llama|llamalo|envia|cierra|haz|hazlo|consigue|termina|agenda|sigue|manda)\b"),
        ("hoy", 1, r"\b(?:hoy|ya mismo|ahora mismo|manana temprano|cuanto antes)\b"),
    ),
    ("directive", "de"): (
        ("du musst", 3, r"\b(?:du musst|du solltest|sie mussen|sie sollten|ihr musst)\b"),
        ("stell sicher", 3, r"\bstell(?:en sie)? sicher\b|\bsorge? dafur\b|\bich (?:will|mochte|erwarte),? dass\b"),
        ("Imperativ", 2, SOS + r"(?:ruf|schick|mach|erledige|schliess|sende|melde)\b"),
        ("sofort", 1, r"\b(?:sofort|heute|umgehend)\b"),
    ),
    ("directive", "fr"): (
        ("tu dois", 3, r"\b(?:tu dois|vous devez|il faut que|il faut (?:appeler|envoyer|signer|conclure|relancer))\b"),
        ("je veux que", 3, r"\bje (?:veux|voudrais|exige) que\b|\bassure-toi\b|\bassurez-vous\b"),
        ("impératif", 2,
         SOS + r"(?:envoie|envoyez|appelle|appelez|relance|relancez|fais|faites|signe|conclus|regle)\b"),
        ("aujourd'hui", 1, r"\b(?:aujourd'hui|tout de suite|immediatement)\b"),
    ),
    ("directive", "pt"): (
        ("você precisa", 3, r"\b(?:voce|vc|tu) (?:precisa|tem que|tem de|deve)\b|\bquero que\b"),
        ("certifique-se", 3, r"\bcertifique-se\b|\bgaranta que\b"),
        ("imperativo", 2, SOS + r"(?:liga|ligue|mande|feche|fecha|envie|faca|resolve)\b"),
        ("hoje", 1, r"\b(?:hoje|agora)\b"),
    ),
}


_LEADS = (SOS + SOFT, SOS, r"\b", "^")  # zero-width or optional openers that precede the literal
_LITERAL = re.compile(r"[a-z0-9' ,-]+")
_OPTIONAL = ("?", "*", "{")


def _alternatives(pattern: str, start: int = 0) -> tuple[list[str], int]:
    """Split ``pattern[start:]`` on top-level ``|`` up to the ``)`` closing the enclosing group.

    Returns the alternatives and the index of that ``)`` (``len(pattern)`` at the top level).
    """
    parts, depth, begin, i = [], 0, start, start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1  # skip the escaped character
        elif char in "([":
            depth += 1
        elif char in ")]":
            if depth == 0:
                break
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[begin:i])
            begin = i + 1
        i += 1
    parts.append(pattern[begin:i])
    return parts, i


def needles_for(pattern: str) -> tuple[str, ...]:
    """The literal prefix of each top-level alternative, or () if any alternative has none."""
    needles = []
    for alternative in _alternatives(pattern)[0]:
        for lead in _LEADS:
            if alternative.startswith(lead):
                alternative = alternative[len(lead) :]
                break
        if alternative.startswith("(?:"):  # a leading group of plain words: "(?:went|gone) wrong"
            words, close = _alternatives(alternative, 3)
            if alternative[close + 1 : close + 2] in _OPTIONAL or not all(
                _LITERAL.fullmatch(word) and len(word) >= 2 for word in words
            ):
                return ()
            needles.extend(words)
            continue
        literal = _LITERAL.match(alternative)
        text = literal.group() if literal else ""
        if text and alternative[len(text) : len(text) + 1] in _OPTIONAL:
            text = text[:-1]  # the last character is optional
        if len(text) < 2:
            return ()
        needles.append(text)
    return tuple(needles)


CUES: tuple[Cue, ...] = tuple(
    Cue(label, lang, weight, name, re.compile(pattern), needles_for(pattern))
    for (label, lang), rows in _TABLE.items()
    for name, weight, pattern in rows
)

# Positions in CUES of the cues to try on every text, and of those to try when a needle is present.
ALWAYS_TRY: tuple[int, ...] = tuple(i for i, cue in enumerate(CUES) if not cue.needles)


def _index_by_needle() -> tuple[tuple[str, tuple[int, ...]], ...]:
    index: dict[str, list[int]] = {}
    for i, cue in enumerate(CUES):
        for needle in cue.needles:
            index.setdefault(needle, []).append(i)
    return tuple((needle, tuple(ids)) for needle, ids in index.items())


BY_NEEDLE = _index_by_needle()
