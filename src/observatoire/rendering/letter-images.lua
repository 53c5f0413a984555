--[[
letter-images.lua: in the PDF (typst), every image is drawn by `obs-image` (letter.typ), which scales a figure
taller than a page down to fit it. It runs before Quarto's own filters (images are still images then); the
alt text (fig-alt, else the caption) is kept for screen readers.
]]

--- A typst string literal.
local function typst_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("[\r\n]+", " ")
  return '"' .. s .. '"'
end

local function typst_image(img)
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  return pandoc.RawInline("typst", string.format("#obs-image(%s, %s)", typst_string(img.src), typst_string(alt)))
end

return {
  {
    Image = function(img)
      if quarto.doc.is_format("typst") then
        return typst_image(img)
      end
    end,
  },
}
