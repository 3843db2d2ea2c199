-- Every number in strength, casualties, units and notes fields, as an interval.
CREATE TABLE IF NOT EXISTS figures (
    wiki          VARCHAR NOT NULL,
    rev_id        BIGINT  NOT NULL,
    box_idx       INTEGER NOT NULL,
    field         VARCHAR NOT NULL,
    side          INTEGER,
    block         INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    entity        VARCHAR,
    country_code  VARCHAR,
    category      VARCHAR NOT NULL,
    low           BIGINT,
    high          BIGINT,
    qualifier     VARCHAR NOT NULL,
    as_of         VARCHAR,
    is_total      BOOLEAN NOT NULL,
    parent_seq    INTEGER,
    is_annotation BOOLEAN NOT NULL DEFAULT FALSE,
    breakdown     VARCHAR,
    raw           VARCHAR NOT NULL,
    ref_names     VARCHAR[],
    PRIMARY KEY (wiki, rev_id, box_idx, field, seq)
);
COMMENT ON TABLE figures IS 'One row per number (or unreadable quantity) in strength*, casualties*, units* and notes of a military-conflict infobox.';
COMMENT ON COLUMN figures.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN figures.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN figures.box_idx IS 'Infobox within the revision (infoboxes.box_idx).';
COMMENT ON COLUMN figures.field IS 'Parameter (strength1, casualties2, units3, notes…; English name for localized templates).';
COMMENT ON COLUMN figures.side IS 'Side number from the parameter name; NULL for fields of no side (notes, casualties3 used as civilians stays 3).';
COMMENT ON COLUMN figures.block IS '0-based segment of the field, segments being separated by ----.';
COMMENT ON COLUMN figures.seq IS '0-based order of the figure within its field.';
COMMENT ON COLUMN figures.entity IS 'Who the number is about: flag country, group or unit name; NULL if not stated.';
COMMENT ON COLUMN figures.country_code IS 'ISO 3166-1 alpha-3 code of the entity''s flag, NULL for non-state groups.';
COMMENT ON COLUMN figures.category IS 'What the number counts (docs/CATEGORIES.md). People: troops, formations (divisions, 师…), killed, dead, wounded, captured, missing, casualties (losses of unstated kind), displaced, refugees, or a combination of killed/dead/wounded/captured/missing joined by + (killed+wounded for 伤亡; captured+missing). Equipment: ships, aircraft, vehicles, artillery, equipment, and their losses ships_lost, aircraft_lost, vehicles_lost, artillery_lost, equipment_lost. Else other.';
COMMENT ON COLUMN figures.low IS 'Lower bound of the interval; NULL when the text gives no number (many, unknown).';
COMMENT ON COLUMN figures.high IS 'Upper bound; NULL when open-ended (at least n) or no number. Under at_least a range keeps its written upper end (至少1,000–1,500 → 1500) while the interval stays open: read qualifier.';
COMMENT ON COLUMN figures.qualifier IS 'exact, approx (约, about, c.), at_least (至少, over, +) or at_most (up to, 以下).';
COMMENT ON COLUMN figures.as_of IS 'Date the figure is stated for, as written ((2017年), as of 2015); NULL if none.';
COMMENT ON COLUMN figures.is_total IS 'True for a declared total (总计, Total) or a block head that is itemised below.';
COMMENT ON COLUMN figures.parent_seq IS 'seq of the total this figure is a part of; NULL when it is not part of a total.';
COMMENT ON COLUMN figures.is_annotation IS 'True for a parenthetical figure that annotates its entity (战前：约12,150人) and is not a contribution.';
COMMENT ON COLUMN figures.breakdown IS 'For a total: exhaustive (its parts should add up to it: items above a total line, a {{Collapsible list}} under a head) or partial (bullets under a head: parts may only not exceed it); NULL otherwise.';
COMMENT ON COLUMN figures.raw IS 'The wikitext line the figure was read from; on a line with more than 20 numbers, only the figure''s own text (so parsing stays linear in a field''s size).';
COMMENT ON COLUMN figures.ref_names IS 'Names (or generated ids for unnamed refs) of the <ref>s attached to the figure (citations.ref_name).';
