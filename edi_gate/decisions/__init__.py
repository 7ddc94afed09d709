"""The decisions record (``--decisions``): its schema and transforms (``record``), its fast
writer and set spool (``writer``, compiled), and its reader (``reader``)."""
