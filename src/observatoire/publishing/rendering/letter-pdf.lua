--[[
letter-pdf.lua: what the PDF (typst) needs before Quarto's own filters run (images are still images then).

  * every image is drawn by `obs-image` (letter.typ), which scales a figure taller than a page down to fit it;
    the alt text (fig-alt, else the caption) is kept for screen readers;
  * a relative link (a notebook page, a data file) becomes absolute, under the edition's public address
    (metadata `observatoire-url`), so that it still works in a downloaded PDF.
]]

local base_url = nil

--- A typst string literal.
local function typst_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("[\r\n]+", " ")
  return '"' .. s .. '"'
end

local function image(img)
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  return pandoc.RawInline("typst", string.format("#obs-image(%s, %s)", typst_string(img.src), typst_string(alt)))
end

local function link(el)
  local target = el.target
  if base_url == nil or target == "" or target:match("^%a[%w+.-]*:") or target:match("^#") then
    return nil
  end
  el.target = base_url .. target:gsub("^%./", "")
  return el
end

if not quarto.doc.is_format("typst") then
  return {}
end

return {
  {
    Meta = function(meta)
      if meta["observatoire-url"] ~= nil then
        base_url = pandoc.utils.stringify(meta["observatoire-url"])
        if not base_url:match("/$") then
          base_url = base_url .. "/"
        end
      end
    end,
  },
  { Image = image, Link = link },
}
