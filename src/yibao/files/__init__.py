"""Files exchanged with institutions (9101 文件上传, 9102 文件下载): an upload, or a catalogue
download yibao made for one institution, readable by that institution only until it expires."""
