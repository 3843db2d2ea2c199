"""Sources of revisions: XML dumps, single wikitext files, the MediaWiki Action API.

Every source yields :class:`PageHistory` objects whose ``revisions`` iterate in
ascending revision order, so that loaders can batch them and parsers can reuse
work between consecutive revisions.
"""

from tasks.sources.model import PageHistory, Revision, SiteInfo

__all__ = ["PageHistory", "Revision", "SiteInfo"]
