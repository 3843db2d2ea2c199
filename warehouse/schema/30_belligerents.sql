-- Who fought on which side, per revision of a military-conflict infobox.
CREATE OR REPLACE VIEW belligerents AS
SELECT r.wiki, r.rev_id, s.box_idx, b.field, b.side, b.seq, b.name, b.country_code, b.coalition,
       b.role, b.period, b.link, b.raw
FROM revisions r JOIN state_fields s ON s.state_id = r.state_id
JOIN value_belligerents b ON b.value_id = s.value_id;
COMMENT ON VIEW belligerents IS 'One row per party listed in a combatant field of a military-conflict infobox, in order.';
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
