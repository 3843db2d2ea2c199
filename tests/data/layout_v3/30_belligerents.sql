-- Who fought on which side, per revision of a military-conflict infobox.
CREATE TABLE IF NOT EXISTS belligerents (
    wiki          VARCHAR NOT NULL,
    rev_id        BIGINT  NOT NULL,
    box_idx       INTEGER NOT NULL,
    field         VARCHAR NOT NULL,
    side          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    country_code  VARCHAR,
    coalition     VARCHAR,
    role          VARCHAR NOT NULL,
    period        VARCHAR,
    link          VARCHAR,
    raw           VARCHAR,
    PRIMARY KEY (wiki, rev_id, box_idx, field, seq)
);
COMMENT ON TABLE belligerents IS 'One row per party listed in a combatant field of a military-conflict infobox, in order.';
COMMENT ON COLUMN belligerents.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN belligerents.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN belligerents.box_idx IS 'Infobox within the revision (infoboxes.box_idx).';
COMMENT ON COLUMN belligerents.field IS 'Parameter the party was read from (combatant1, combatant1a, or the localized name).';
COMMENT ON COLUMN belligerents.side IS 'Side number: 1, 2, 3… from the parameter name (combatant2 → 2; combatant1a → 1).';
COMMENT ON COLUMN belligerents.seq IS '0-based order of the party within its field.';
COMMENT ON COLUMN belligerents.name IS 'Party name as shown (link label, flag country name, or the flag image''s caption for non-state groups).';
COMMENT ON COLUMN belligerents.country_code IS 'ISO 3166-1 alpha-3 code resolved from a flag template; NULL for non-state groups and unresolvable names.';
COMMENT ON COLUMN belligerents.coalition IS 'Title of the enclosing {{Collapsible list}} or bold heading (e.g. 西共體), NULL if none.';
COMMENT ON COLUMN belligerents.role IS 'combatant, or support when listed under a support heading (支持：, Supported by:).';
COMMENT ON COLUMN belligerents.period IS 'Period of involvement as written, e.g. （2012–17）, 2017年至今, (2013–present); NULL if none.';
COMMENT ON COLUMN belligerents.link IS 'Target of the wikilink naming the party, NULL if not linked.';
COMMENT ON COLUMN belligerents.raw IS 'The wikitext line the party was read from.';
